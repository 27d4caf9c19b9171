# %% [markdown]
# # Sampler benchmark: nutpie, PyMC's NUTS and numpyro
#
# The book fits every model with nutpie. This chapter measures what that
# choice buys: it fits recommended models of the series with nutpie
# {cite:p}`nutpie`, PyMC's own NUTS {cite:p}`abril-pla2023pymc` and numpyro
# {cite:p}`phan2019numpyro` (through PyMC), on the same cores, with the same
# draws, warm-up, chains, `target_accept` and seeds, repeats each fit and
# reports the median and range of the time each takes and of the effective
# sample size it buys. `make benchmark` runs the same measurement on every
# recommended model and writes every repeat to a CSV.
#
# ## What is measured
#
# - `compile_seconds`: everything that is not the sampler's loop. nutpie
#   compiles the model's log density with numba; PyMC compiles it with its C
#   backend (reusing PyTensor's on-disk cache of compiled code); for numpyro
#   PyMC converts the model to JAX, and JAX compiles the sampler just in time
#   at its first call. That last part happens inside numpyro's run; JAX
#   reports every tracing, lowering and compilation step to its monitoring
#   listeners, and the book moves those seconds from sampling to compiling.
# - `sampling_seconds`: the sampler's loop, warm-up included.
# - `min_ess_bulk`: the lowest bulk ESS over the parameters the chapter
#   reports; ESS per second divides it by the sampling time (the engine's
#   speed once running) and by the whole call (what a user waits for).
# - The same cores for every engine: one chain per core. nutpie and PyMC
#   run their chains in parallel by themselves; numpyro does so only when
#   JAX has one device per chain, which the book arranges by splitting the
#   CPU into as many XLA devices as it has cores (`parallel_chains` in the
#   table says whether it worked).
#
# Each fit is repeated with a new seed per repeat (the same seed for every
# engine), so a range covers both the machine's noise and the Monte Carlo
# variation of the ESS. The chapter fits three models of increasing
# difficulty, to keep its three engines and three repeats short (this run:
# {glue:text}`bench_seconds:.0f` s of fitting); `make benchmark` runs all
# nine.

# %% tags=["hide-cell"]
from IPython.display import display

from crispr_models.checks.benchmark import run_benchmark, speedups, summarise_benchmark
from crispr_models.core.artifacts import save_table
from crispr_models.core.prose import glue_values
from crispr_models.plots.checks import plot_benchmark

# %% tags=["parameters"]
seed = 103  # seeds every fit (the same seed for each engine)
benchmark_models = ("m2", "m5", "m6global")  # chapters whose recommended model is fitted
benchmark_draws = 1000  # posterior draws per chain
benchmark_tune = 1000  # warm-up draws per chain
benchmark_chains = 2  # chains, one per core
benchmark_repeats = 3  # fits per model and engine (seed, seed + 1, ...)
artifacts_dir = ""  # set by crispr-models run: where benchmark.csv goes

# %%
table = run_benchmark(
    benchmark_models,
    draws=benchmark_draws,
    tune=benchmark_tune,
    chains=benchmark_chains,
    seed=seed,
    repeats=benchmark_repeats,
)
save_table(artifacts_dir, "benchmark", table)
print(
    f"{table.attrs['platform']}, {table.attrs['cpus']} cpus, "
    f"{table.attrs['jax_devices']} JAX devices"
)

# %% [markdown]
# Per model and engine, the median of the repeats and, in brackets, the
# lowest and highest value; every repeat is in `benchmark.csv`.

# %%
summary = summarise_benchmark(table)


def _median_and_range(frame, measure, decimals):
    """'median (low to high)' for every row of a summary table."""
    return [
        f"{m:.{decimals}f} ({lo:.{decimals}f} to {hi:.{decimals}f})"
        for m, lo, hi in frame[[f"{measure}_median", f"{measure}_low", f"{measure}_high"]].values
    ]


shown = summary[["chapter", "sampler", "divergences", "max_r_hat"]].assign(
    **{
        "compile s": _median_and_range(summary, "compile_seconds", 1),
        "sampling s": _median_and_range(summary, "sampling_seconds", 2),
        "lowest bulk ESS": _median_and_range(summary, "min_ess_bulk", 0),
        "ESS / s sampling": _median_and_range(summary, "ess_per_second_sampling", 0),
        "ESS / s whole call": _median_and_range(summary, "ess_per_second_total", 0),
    }
)
display(shown.style.format({"max_r_hat": "{:.3f}"}).hide(axis="index"))

# %% [markdown]
# A `RuntimeWarning: overflow encountered in dot` above, if there is one,
# is PyMC computing the kinetic energy of a trajectory that blew up: a
# divergent transition, during warm-up or counted in the table.

# %%
plot_benchmark(table, title="Lowest bulk ESS per second, by chapter and engine")

# %% [markdown]
# ## Relative to PyMC's own NUTS
#
# Each engine's ESS per second divided by PyMC's in the same repeat (the
# same seed), per model: median and range over the repeats. Above 1 is
# faster than PyMC.

# %%
ratios = speedups(table)
ratios.round(2)

# %%
seconds = ["compile_seconds", "sampling_seconds", "total_seconds"]
table.groupby(["sampler", "repeat"], sort=False)[seconds].sum().groupby("sampler", sort=False).agg(
    ["median", "min", "max"]
).round(1)


# %% tags=["remove-input"]
def _span(values, decimals: int = 1) -> str:
    """A set of measurements as 'low to high' (one value when they round alike)."""
    low, high = f"{min(values):.{decimals}f}", f"{max(values):.{decimals}f}"
    return low if low == high else f"{low} to {high}"


engines = list(table["sampler"].unique())
by_engine = summary.set_index("sampler")


def _engine_ratio(engine: str, measure: str) -> str:
    """An engine's median ratio to PyMC per chapter, as a range over chapters."""
    return _span(ratios.xs(engine, level="sampler")[f"{measure}_median"])


glue_values(
    bench_seconds=float(table["total_seconds"].sum()),
    bench_chapters=", ".join(table["chapter"].unique()),
    bench_draws=f"{benchmark_chains} chains x ({benchmark_tune} + {benchmark_draws}) draws",
    bench_repeats=str(table["repeat"].nunique()),
    bench_parallel="yes" if table["parallel_chains"].all() else "no",
    **{
        f"bench_{engine}_{measure}": _engine_ratio(engine, f"ess_per_second_{measure}")
        for engine in engines
        if engine != "pymc"
        for measure in ("sampling", "total")
    },
    bench_compile="; ".join(
        f"{engine} {_span(by_engine.loc[[engine], 'compile_seconds_median'])} s"
        for engine in engines
    ),
    bench_divergent=", ".join(
        f"{r.sampler} on {r.chapter} ({r.divergences} over {r.repeats} repeats)"
        for r in summary[summary["divergences"] > 0].itertuples()
    )
    or "none",
)

# %% [markdown]
# ## Conclusions
#
# What this run measured, on {glue:text}`bench_chapters` with
# {glue:text}`bench_draws` per engine, each fit repeated
# {glue:text}`bench_repeats` times on this machine (numpyro's chains in
# parallel: {glue:text}`bench_parallel`). Each range below runs over the
# models' medians.
#
# - **Once running**, nutpie's lowest-bulk-ESS per second of sampling was
#   {glue:text}`bench_nutpie_sampling` times PyMC's NUTS, numpyro's
#   {glue:text}`bench_numpyro_sampling` times.
# - **For a whole call, compilation decides.** Counting compile time,
#   nutpie's ESS per second was {glue:text}`bench_nutpie_total` times PyMC's,
#   numpyro's {glue:text}`bench_numpyro_total` times. Median compile seconds
#   per model: {glue:text}`bench_compile`. nutpie's numba and numpyro's JAX
#   compile anew in every call; PyMC reuses PyTensor's on-disk cache of
#   compiled code, warm once the chapters have run, so on models this small
#   its slower loop can still finish first.
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
