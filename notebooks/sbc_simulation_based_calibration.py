# %% [markdown]
# # Simulation-based calibration of the recommended models
#
# Each chapter recovers the truth from one simulated data set, which says
# little: a 94 % interval misses 6 % of the time, and a model that is slightly
# overconfident looks the same as a lucky one. Simulation-based calibration
# (SBC, {cite:t}`talts2018sbc`) asks the question over many data sets: draw
# the parameters from the prior, simulate data from them, fit, and record
# where the true value falls among the posterior draws. If the model is
# coded correctly and the sampler works, that rank is uniform, for every
# parameter. This chapter checks four models: model 2, the corrected model 6,
# model 6 with correlated sgRNA effects (whose intervals covered only 88 % of
# the truths in its chapter), and the hierarchical model 7.
#
# ## How the check works
#
# For simulation $i = 1, \dots, N$: draw $\theta_i$ from the prior, draw
# $y_i$ given $\theta_i$, sample the posterior given $y_i$ and
# keep $L$ draws; the rank of $\theta_i$ is the number of those draws below
# it, $0$ to $L$. Averaged over the prior, the posterior is the prior, so a
# correct procedure gives ranks uniform on $0, \dots, L$.
#
# - **Two codes that check each other.** $\theta_i$ comes from the PyMC
#   model's prior, but $y_i$ is simulated by the book's simulation module
#   (`crispr_models.series.simulation`, the code that makes every chapter's data),
#   which looks each effect up by its label (gene, sgRNA, cell line) where
#   the model indexes integer codes. A wrong prior, a wrong index or a
#   missing term in either makes the data disagree with the model, and the
#   ranks show it. Drawing $y_i$ from the same PyMC graph that is fitted
#   would put the same mistake on both sides, and pass.
# - **Thinned draws.** Autocorrelated draws make ranks pile up at the ends
#   even when the model is right, so each simulation's chain is thinned:
#   every `thin`-th of `calibration_draws` draws is ranked.
# - **Simultaneous bands.** The plots show, per parameter, the empirical CDF
#   of the ranks minus the uniform CDF, inside the band that holds the whole
#   curve of a uniform sample with probability 95 %
#   {cite:p}`sailynoja2022ecdf`. A curve above the band at low ranks means
#   the truths rank low: the posterior sits too high. A curve below zero
#   and then above it means the ranks cluster in the middle: the posterior
#   is too wide; above and then below means they pile up at both ends: it
#   is too narrow.
# - **Verdict.** A model with 100 scalars will see about 5 of them leave a
#   95 % band by chance. A variable *fails* only if one of its scalars leaves
#   the Bonferroni band at level $1 - 0.05/m$, $m$ the number of scalars
#   checked in the model, so a calibrated model fails anywhere with
#   probability at most 5 %. SBC only sees what the chosen quantities show;
#   {cite:t}`modrak2023sbc` discuss adding data-dependent ones.
#
# The data sets keep each chapter's design (genes, sgRNAs, cell lines and
# covariates, simulated with the chapter's defaults); only the parameters and
# the logFC are drawn afresh. Each model is compiled once by nutpie and given
# every simulated data set through its `logfc_observed` data container; two
# simulations run at a time, one chain each, one per core.
#
# **Settings, against the chapters'.** Each fit keeps its chapter's
# `target_accept` but runs one chain of `calibration_tune` warm-up and
# `calibration_draws` draws, where the chapters run four chains of 1000 to
# 2000 of each: ranks need $L$ nearly independent draws, not precise
# estimates, and four models times $N$ fits have to fit in the book's build.
# A shorter warm-up adapts the step size and mass matrix less well, which
# shows as divergences, and a divergent fit's posterior can be biased. So a
# model whose fits diverged more than 5 % of the time gets no *passes*: its
# variables that stay inside the band are marked *inconclusive*.
#
# **Why not `simuk`.** The ArviZ team's `simuk` (0.3.0, which now installs
# with this book's Python) runs this loop for PyMC models, but it fits each
# simulation with `pm.sample` on the model with new data, so the model is
# compiled again for every fit, and it ranks all draws unthinned (ranks of
# autocorrelated draws pile up at the ends even for a correct model).
# Measured once on the book's two-core machine, 20 simulations of model 2
# with one chain of 200 + 200 draws: `simuk` with PyMC's NUTS took 87 s,
# with nutpie through `pm.sample` 3.4 s per fit (its compilation), and this
# chapter's loop (nutpie compiles once, two fits at a time) 4.3 s. For the
# chapter's six sets of fits in the book's time that settles it; the ranks follow the same
# definition, and the simultaneous bands are ArviZ's
# (`arviz_stats.ecdf_utils`), simulated for the chapter's number of
# simulations and ranks.

# %% tags=["hide-cell"]
import numpy as np
import pandas as pd
from IPython.display import display

from crispr_models.checks.calibration import (
    CONTROLS,
    CalibrationSettings,
    calibrate_recommended,
    calibration_fit_summary,
    calibration_table,
    control_table,
    power_table,
    rank_ecdf_band,
    rank_ecdf_differences,
)
from crispr_models.core.artifacts import save_table
from crispr_models.core.prose import glue_values
from crispr_models.plots.checks import plot_rank_ecdf_difference

# %% tags=["parameters"]
seed = 103  # seeds the prior draws and every simulation's sampler
num_simulations = 150  # simulated data sets per model (kept small for the book's build)
calibration_draws = 200  # posterior draws per simulation (one chain)
calibration_tune = 200  # warm-up draws per simulation
thin = 10  # rank every thin-th draw, so L is calibration_draws over thin
artifacts_dir = ""  # set by crispr-models run: where the rank tables go

# %%
rng = np.random.default_rng(seed)
chapters = ("m2", "m6", "m6corr", "m7")
# One child generator per model: adding a model leaves the others' draws alone.
model_rngs = dict(zip(chapters, rng.spawn(len(chapters)), strict=True))
control_rng, power_rng = rng.spawn(2)
settings = CalibrationSettings(
    num_simulations=num_simulations, draws=calibration_draws, tune=calibration_tune, thin=thin
)
band = rank_ecdf_band(num_simulations, settings.max_rank)
print(f"{num_simulations} simulations per model, ranks 0 to L = {settings.max_rank}")


# %%
def calibrate(chapter: str, **options):
    """SBC of a chapter's model: save its ranks, show its verdicts and ECDF plot."""
    result = calibrate_recommended(chapter, model_rngs[chapter], settings, **options)
    save_table(artifacts_dir, f"ranks_{chapter}", result.ranks)
    table = calibration_table(result)
    display(table.round(3))
    print(
        f"{chapter}: compiled in {result.compile_seconds:.1f} s, "
        f"{num_simulations} fits in {result.total_seconds:.1f} s"
    )
    display(
        plot_rank_ecdf_difference(
            rank_ecdf_differences(result),
            band,
            title=f"{chapter}: rank ECDF minus the uniform CDF",
        )
    )
    return result, table


# %% [markdown]
# ## Model 2: genes with varying intercept and RNA slope
#
# Centred, `target_accept = 0.9`, on 5 genes by 30 cell lines.

# %%
results, tables = {}, {}
# The same fits, ranked with their draws shrunk and spread: two of the controls.
scales = tuple(c.posterior_scale for c in CONTROLS if c.posterior_scale != 1.0)
results["m2"], tables["m2"] = calibrate("m2", posterior_scales=scales)

# %% [markdown]
# ## Model 6: copy number centred at two copies, non-centred
#
# 5 genes, 15 sgRNAs, 20 cell lines, gene C held at two copies (the
# original's design), `target_accept = 0.95`; the data simulated on the
# copy number minus 2, the model's intercepts at two copies.

# %%
results["m6"], tables["m6"] = calibrate("m6")

# %% [markdown]
# ## Model 6 with correlated sgRNA intercepts and slopes
#
# 10 genes by 5 sgRNAs by 20 cell lines, LKJ(2) prior on $\rho$,
# `target_accept = 0.95`. In {doc}`its chapter <m6corr>` the 94 % intervals
# of the sgRNA effects can miss more often than 6 in 100, in intercept-slope
# pairs of the same sgRNAs. SBC says whether that is the model or that data
# set.

# %%
results["m6corr"], tables["m6corr"] = calibrate("m6corr")

# %% [markdown]
# ## Model 7, hierarchical 7c
#
# 10 genes with 1 to 10 sgRNAs (55), 20 cell lines, zero-sum cell-line
# effects, `target_accept = 0.9`.

# %%
results["m7"], tables["m7"] = calibrate("m7")

# %% [markdown]
# ## Which parameters pass
#
# One row per variable: how many of its scalars left the 95 % band (and how
# many would by chance), how many left the family-wise band, and how often
# the truth fell inside the ranked draws against the nominal
# $(L-1)/(L+1)$.

# %%
verdicts = pd.concat(tables.values(), ignore_index=True)
save_table(artifacts_dir, "calibration", verdicts)
verdicts.style.format(
    {"interval_coverage": "{:.3f}", "nominal_coverage": "{:.3f}", "expected_by_chance": "{:.1f}"}
).hide(axis="index")

# %%
for chapter in chapters:
    verdict = tables[chapter].groupby("verdict")["variable"].apply(", ".join).to_dict()
    print(f"{chapter}: " + "; ".join(f"{v}: {names}" for v, names in verdict.items()))
print(
    f"{verdicts['outside_band'].sum()} of {verdicts['scalars'].sum()} scalars leave the 95 % "
    f"band; chance alone: about {0.05 * verdicts['scalars'].sum():.0f}"
)

# %% [markdown]
# ## Positive controls: errors the check must catch
#
# A check that has never failed proves little. Four deliberate errors, on
# model 2 with the same settings: data drawn with $\sigma_\beta$'s prior twice
# as wide as the model's; each gene's intercept simulated for the next gene
# (what an index off by one in the model would do); and the posterior draws
# of the model 2 fits above shrunk to half or spread to twice their spread
# about their mean before ranking (a sampler or a model that is over- or
# underconfident). Each must fail somewhere.

# %%
control_results = {
    control.name: calibrate_recommended("m2", control_rng, settings, perturb=control.perturb)
    if control.perturb
    else results["m2"]
    for control in CONTROLS
}
controls = control_table(control_results)
save_table(artifacts_dir, "controls", controls)
controls

# %% [markdown]
# ## What this many simulations can detect
#
# How often the band flags one scalar whose posterior is wrong by a given
# amount, with this run's $N$ and $L$: simulated ranks, no fitting. The
# first block uses the 95 % band of a model with one scalar; the second the
# Bonferroni band of the largest model here, which needs a larger error to
# fail.

# %%
largest = int(verdicts.groupby("chapter")["scalars"].sum().max())
power = pd.concat(
    [power_table(num_simulations, settings.max_rank, power_rng, n) for n in (1, largest)],
    ignore_index=True,
)
save_table(artifacts_dir, "power", power)
power.round(2)

# %% [markdown]
# ## The sampler across the prior
#
# SBC tests the sampler too: the prior reaches data sets unlike the
# chapters' (noise sds near 0, slopes of 10 per copy), where the geometry is
# harder. Per model: how many fits diverged, the median over simulations of
# the lowest bulk ESS among the ranked parameters, and how many fits had a
# lowest ESS below $L$, the number of draws ranked.

# %%
fits = pd.DataFrame([calibration_fit_summary(result) for result in results.values()])
save_table(artifacts_dir, "calibration_fits", fits)
fits.round(1)


# %% tags=["remove-input"]
def _share(count: int, total: int) -> str:
    return f"{count} of {total} ({count / total:.0%})"


def _coverage(chapter: str, variables: tuple[str, ...]) -> float:
    rows = verdicts[(verdicts["chapter"] == chapter) & verdicts["variable"].isin(variables)]
    return float((rows["interval_coverage"] * rows["scalars"]).sum() / rows["scalars"].sum())


failing = verdicts.query("verdict == 'fails'")
inconclusive = verdicts.query("verdict == 'inconclusive'")["chapter"].unique()
by_chapter = fits.set_index("chapter")
one_scalar = power[power["scalars_in_model"] == 1].set_index(
    ["error", "posterior_sd_factor", "bias_in_posterior_sds"]
)["power"]
nominal = float(verdicts["nominal_coverage"].iloc[0])
glue_values(
    sbc_simulations=num_simulations,
    sbc_max_rank=settings.max_rank,
    sbc_verdict=(
        "No rank ECDF of the four models leaves the family-wise band"
        if failing.empty
        else "Some variables fail: "
        + ", ".join(f"{r.chapter} {r.variable}" for r in failing.itertuples())
    ),
    sbc_inconclusive=(
        "every model's fits diverged in at most 5 % of the simulations, so each "
        "variable inside the band passes"
        if len(inconclusive) == 0
        else "the fits of " + ", ".join(inconclusive) + " diverged in more than 5 % of "
        "the simulations, so their variables inside the band are inconclusive, not passes"
    ),
    sbc_controls_flagged=int(controls["flagged"].sum()),
    sbc_controls=len(controls),
    sbc_controls_missed=", ".join(controls.loc[~controls["flagged"], "control"]) or "none",
    sbc_power_narrow=float(one_scalar[("too narrow", 0.8, 0.0)]),
    sbc_power_wide=float(one_scalar[("too wide", 1.25, 0.0)]),
    sbc_power_half=float(one_scalar[("too narrow", 0.5, 0.0)]),
    sbc_power_bias=float(one_scalar[("biased", 1.0, 0.25)]),
    sbc_power_bias_half=float(one_scalar[("biased", 1.0, 0.5)]),
    sbc_largest=largest,
    sbc_scalars=int(verdicts["scalars"].sum()),
    sbc_outside=int(verdicts["outside_band"].sum()),
    sbc_chance=float(verdicts["expected_by_chance"].sum()),
    sbc_coverage_low=float(verdicts["interval_coverage"].min()),
    sbc_coverage_high=float(verdicts["interval_coverage"].max()),
    sbc_nominal=nominal,
    sbc_binomial_se=float(np.sqrt(nominal * (1 - nominal) / num_simulations)),
    sbc_m6corr_sgrna=_coverage("m6corr", ("alpha", "beta")),
    sbc_divergent=", ".join(
        f"{chapter} {_share(int(r.with_divergences), int(r.simulations))}"
        for chapter, r in by_chapter.iterrows()
    ),
    sbc_low_ess=", ".join(
        f"{chapter} {_share(int(r.below_ess_max_rank), int(r.simulations))} "
        f"(most often {r.most_often_lowest_ess})"
        for chapter, r in by_chapter.iterrows()
    ),
    sbc_band=float(band["upper"].max()),
)

# %% [markdown]
# ## Conclusions
#
# What this run found, with {glue:text}`sbc_simulations` simulations per model
# and $L =$ {glue:text}`sbc_max_rank`:
#
# - **{glue:text}`sbc_verdict`**, and {glue:text}`sbc_inconclusive`. Of
#   the {glue:text}`sbc_scalars` scalars
#   checked, {glue:text}`sbc_outside` leave the 95 % band, where chance alone
#   would put about {glue:text}`sbc_chance:.0f`; and the truth falls inside
#   the ranked draws {glue:text}`sbc_coverage_low:.1%` to
#   {glue:text}`sbc_coverage_high:.1%` of the time per variable, against a
#   nominal {glue:text}`sbc_nominal:.1%` (one binomial standard error is
#   {glue:text}`sbc_binomial_se:.1%` for a scalar). Where a variable
#   passes, the model is coded as the simulation module simulates and the
#   sampler recovers its posterior, averaged over the prior.
# - **The check can fail.** {glue:text}`sbc_controls_flagged` of the
#   {glue:text}`sbc_controls` deliberate errors were flagged (missed:
#   {glue:text}`sbc_controls_missed`).
# - **Its power.** For one scalar, this run's $N$ and $L$ flag a posterior
#   half as wide as it should be with probability
#   {glue:text}`sbc_power_half:.0%`, one 20 % too narrow
#   {glue:text}`sbc_power_narrow:.0%`, 25 % too wide
#   {glue:text}`sbc_power_wide:.0%`, and one off-centre by a quarter or a half
#   of its sd {glue:text}`sbc_power_bias:.0%` and
#   {glue:text}`sbc_power_bias_half:.0%`; the Bonferroni band of a model with
#   {glue:text}`sbc_largest` scalars needs larger errors (the table above).
#   A pass says that no error of that size is there, not that none is.
# - **Model 6 with correlated effects.** Over the simulated data sets the
#   intervals of its sgRNA intercepts and slopes cover the truth
#   {glue:text}`sbc_m6corr_sgrna:.1%` of the time, against
#   {glue:text}`sbc_nominal:.1%`. Its chapter's misses come in
#   intercept-slope pairs because the two posterior errors of an sgRNA are
#   correlated (its intercept is the effect at zero copies, extrapolated
#   along the slope from copy numbers mostly above it); correlated misses
#   make one data set's
#   coverage noisier than a binomial count suggests.
# - **Calibrated is not the same as easy to sample.** The prior reaches data
#   the chapters never see: noise sds near 0, slopes of 10 per copy, group
#   sds near 0. Fits with divergences: {glue:text}`sbc_divergent`. Fits whose
#   lowest bulk ESS fell below $L$: {glue:text}`sbc_low_ess`. Autocorrelated
#   draws push ranks towards 0 and $L$, which would look like
#   overconfidence, so a pass despite them is not an artefact of it. The
#   chapters' fits pass their checks because of their data; a user fitting
#   these models to screens unlike them should check every fit, as the
#   chapters do.
# - The 95 % band reaches {glue:text}`sbc_band:.2f` in ECDF units. More
#   simulations (`-p num_simulations 1000`) narrow it, at proportional cost.

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor
