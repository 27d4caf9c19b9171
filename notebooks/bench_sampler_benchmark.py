# %% [markdown]
# # Sampler benchmark: nutpie, PyMC's NUTS and numpyro
#
# The book fits every model with nutpie because it is faster here. This
# chapter measures that claim: it fits each chapter's recommended model with
# nutpie {cite:p}`nutpie`, PyMC's own NUTS {cite:p}`abril-pla2023pymc` and
# numpyro {cite:p}`phan2019numpyro` (through PyMC), with the same draws,
# warm-up, chains, `target_accept` and seed, and reports the time each takes
# and the effective sample size it buys. The same figures come from
# `benchmarks/sampler_benchmark.py`, which writes them to a CSV.
#
# ## What is measured
#
# - `compile_seconds`: everything before the first draw. nutpie compiles the
#   model's log density with numba; PyMC compiles it with its C backend;
#   for numpyro PyMC converts the model to JAX.
# - `sampling_seconds`: the sampler's own loop, warm-up included. For
#   numpyro it includes JAX's just-in-time compilation of the sampler, which
#   happens at the first call and cannot be separated from outside.
# - `min_ess_bulk`: the lowest bulk ESS over the parameters the chapter
#   reports; ESS per second divides it by the sampling time (the engine's
#   speed once running) and by the whole call (what a user waits for).
#
# Every figure is one run on this machine (2 cores, chains run in
# parallel); the timings vary by a few tenths of a second between runs, and
# ESS per second is a ratio of two noisy numbers, so read factors, not
# decimals.

# %%
import time

notebook_start = time.perf_counter()

from IPython.display import display

from crispr_models.artifacts import save_table
from crispr_models.benchmark import run_benchmark, speedups
from crispr_models.plotting import plot_benchmark

# %% tags=["parameters"]
seed = 103  # seeds every fit (the same seed for each engine)
benchmark_models = ("m1", "m2", "m3", "m4", "m5", "m6", "m6global", "m6corr", "m7")  # chapters
benchmark_draws = 1000  # posterior draws per chain
benchmark_tune = 1000  # warm-up draws per chain
benchmark_chains = 2  # chains, one per core
artifacts_dir = ""  # set by crispr-models run: where benchmark.csv goes

# %%
table = run_benchmark(
    benchmark_models,
    draws=benchmark_draws,
    tune=benchmark_tune,
    chains=benchmark_chains,
    seed=seed,
)
save_table(artifacts_dir, "benchmark", table)
print(f"{table.attrs['platform']}, {table.attrs['cpus']} cpus")
shown = table.drop(columns=["chains", "tune", "draws", "seed"])
decimals = {c: "{:.2f}" for c in shown.select_dtypes("float").columns}
display(shown.style.format({**decimals, "min_ess_bulk": "{:.0f}"}).hide(axis="index"))

# %% [markdown]
# A `RuntimeWarning: overflow encountered in dot` above, if there is one,
# is PyMC computing the kinetic energy of a trajectory that blew up: a
# divergent transition, during warm-up or counted in the table.

# %%
plot_benchmark(table, title="Lowest bulk ESS per second, by chapter and engine")

# %% [markdown]
# ## Relative to PyMC's own NUTS
#
# Each engine's ESS per second divided by PyMC's, per model: above 1 is
# faster than PyMC.

# %%
speedups(table).round(1)

# %%
total = table.groupby("sampler")[["compile_seconds", "sampling_seconds", "total_seconds"]].sum()
total.round(1)

# %% [markdown]
# ## Conclusions
#
# Read the tables for this run's figures; in three full runs of the book on
# two cores (2 chains x (1000 + 1000) draws) the pattern was the same:
#
# - **Once running, nutpie samples fastest**, but by less than is often
#   quoted: 3 to 17 times PyMC's NUTS in ESS per second of sampling on the
#   seven easy models (chapters 1 to 5, 6.2 and 7), and 4 to 85 times
#   numpyro's.
# - **On the two hard models the lead shrinks.** On the non-centred model 6
#   and on model 6 with correlated effects nutpie is 4 to 5 times PyMC, and
#   level with numpyro on model 6-corr: with 1000 warm-up draws it gets two
#   to three times fewer effective draws per draw (lowest bulk ESS 231
#   against PyMC's 610 on model 6), and its speed per gradient makes up the
#   rest. numpyro's sampling time on model 6 varied fourfold between runs
#   (16 to 62 s for the same draws), a reminder that these are single
#   measurements on a shared machine.
# - **For a whole call, compilation decides, and the winner depends on a
#   cache.** The easy models sample in a tenth of a second with nutpie and
#   in one to five seconds with the others, while compiling takes longer:
#   nutpie 3 to 9 s (numba, anew in every process); PyMC 1 to 2.5 s when
#   PyTensor's on-disk cache of compiled C code is warm, as it is after the
#   chapters have run, up to 10 s when it is not; numpyro 1 to 3 s plus
#   JAX's compilation inside its sampling time. So on the easy models PyMC's
#   whole call is usually the shortest; on the hard ones nutpie's is, by a
#   factor of 2 to 7.
# - This is why the book compiles each model once for the 200 fits of
#   simulation-based calibration: there, nutpie's sampling speed is all that
#   counts.
# - **The engines agree on the answer**: the same models converge with
#   each, with similar ESS (the test suite checks that the three agree
#   within Monte Carlo error on model 1). A divergence appears with PyMC on
#   model 2 and with PyMC and numpyro on model 6 at the chapters'
#   `target_accept`: different engines meet a difficult geometry in
#   different places.

# %%
print(f"notebook run time: {time.perf_counter() - notebook_start:.1f} s")

# %% [markdown]
# ## Watermark

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor,numpyro,jax
