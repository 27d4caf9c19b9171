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

# %% tags=["hide-cell"]
from IPython.display import display

from crispr_models import plotting
from crispr_models.artifacts import save_table
from crispr_models.benchmark import run_benchmark, speedups
from crispr_models.prose import glue_values

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
plotting.plot_benchmark(table, title="Lowest bulk ESS per second, by chapter and engine")

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


# %% tags=["remove-input"]
def _span(values) -> str:
    """The range of a set of measurements, as 'low to high' (one value alone)."""
    low, high = min(values), max(values)
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f} to {high:.1f}"


ratios = speedups(table)
engines = list(table["sampler"].unique())
compile_spans = "; ".join(
    f"{engine} {_span(table.loc[table['sampler'] == engine, 'compile_seconds'])} s"
    for engine in engines
)
glue_values(
    bench_chapters=", ".join(table["chapter"].unique()),
    bench_draws=f"{benchmark_chains} chains x ({benchmark_tune} + {benchmark_draws}) draws",
    bench_nutpie_sampling=_span(ratios[("ess_per_second_sampling", "nutpie")]),
    bench_nutpie_total=_span(ratios[("ess_per_second_total", "nutpie")]),
    bench_compile=compile_spans,
    bench_divergent=", ".join(
        f"{r.sampler} on {r.chapter} ({r.divergences})"
        for r in table[table["divergences"] > 0].itertuples()
    )
    or "none",
)

# %% [markdown]
# ## Conclusions
#
# What this run measured, on {glue:text}`bench_chapters` with
# {glue:text}`bench_draws` per engine, each a single measurement on this
# machine (repeat the chapter to see their spread):
#
# - **Once running**, nutpie's lowest-bulk-ESS per second of sampling was
#   {glue:text}`bench_nutpie_sampling` times PyMC's NUTS, chapter by chapter.
# - **For a whole call, compilation decides.** Counting compile time, nutpie's
#   ESS per second was {glue:text}`bench_nutpie_total` times PyMC's. Compile
#   seconds per model: {glue:text}`bench_compile`. nutpie compiles anew in
#   every process (numba); PyMC reuses PyTensor's on-disk cache of compiled
#   code, warm after the chapters have run.
# - This is why the book compiles each model once for all the fits of
#   simulation-based calibration: there, sampling speed is all that counts.
# - **Divergences** at the chapters' `target_accept`:
#   {glue:text}`bench_divergent`. Different engines meet a difficult geometry
#   in different places; the test suite checks that the three agree within
#   Monte Carlo error on model 1.

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor,numpyro,jax
