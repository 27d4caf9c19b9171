# %% [markdown]
# # Model 6: centred or non-centred?
#
# A hierarchical effect can be sampled as itself, $\alpha_s \sim
# \mathcal{N}(\gamma_g, \sigma_\alpha)$ (centred), or through a standard normal,
# $\alpha_s = \gamma_g + \sigma_\alpha z_s$ with $z_s \sim \mathcal{N}(0, 1)$
# (non-centred). The two define the same model but give NUTS different
# geometries {cite}`betancourt2015hierarchical`: the centred form has a funnel
# where the data say little about each group, the non-centred form a
# correlation where they say a lot. This chapter fits model 6 both ways on
# three data sets and measures divergences, effective sample size and ESS per
# second of sampling, so the choice can be made on evidence.
#
# The three data sets:
#
# - **z-scored, 20 lines**: the original data and covariate (model 6 as
#   published). Every sgRNA has 20 observations on a covariate spread evenly.
# - **raw, 20 lines**: the same data on the raw copy number. One gene never
#   leaves two copies, so its intercept at zero copies is barely informed.
#   (Model 6 now recommends the copy number centred at two copies, which
#   removes that problem; the raw covariate stays here as the example of a
#   weakly informed group.)
# - **z-scored, few lines, noisy**: a new draw with few cell lines and larger
#   noise, the data-poor case.
#
# Every fit uses the same settings, including the original's
# `target_accept = 0.95`, so only the parameterisation differs within a
# data set. Sampling these models takes seconds or less, so one run's time
# says little: each model is compiled once and sampled `timing_repeats`
# times with new seeds, and the tables give the median and range.

# %% tags=["hide-cell"]
import re

import numpy as np
import pandas as pd
from IPython.display import display

from crispr_models.checks.diagnostics import recovery_table, sampling_efficiency
from crispr_models.core.artifacts import save_fit, save_table
from crispr_models.core.fitting import sample_posterior_repeatedly, timing_summary
from crispr_models.core.prose import glue_values, model_code, rerun_note
from crispr_models.core.workflow import Experiment
from crispr_models.plots.checks import plot_efficiency
from crispr_models.plots.series import plot_observations
from crispr_models.series.models import PARAMETERIZATIONS, sgrna_copy_number_model
from crispr_models.series.simulation import simulate_sgrna_copy_number

# %% tags=["parameters"]
seed = 103  # seeds the simulation and every sampling step
num_cell_lines_few = 4  # cell lines in the data-poor data set
true_sigma_noisy = 1.0  # observation noise in the data-poor data set
timing_repeats = 3  # samples per model and data set, from one compilation
artifacts_dir = ""  # set by crispr-models run: where the fits and the comparison table go

# %% [markdown]
# ## The data sets
#
# Three data sets that differ in how well they inform each sgRNA, the condition the choice of parameterisation turns on.

# %%
rng = np.random.default_rng(seed)
experiment = Experiment.from_parameters("m6param", rng, globals())
original = simulate_sgrna_copy_number(np.random.RandomState(seed)).observations
data_poor = simulate_sgrna_copy_number(
    rng, num_cell_lines=num_cell_lines_few, sigma=true_sigma_noisy
).observations
scenarios = {
    "z-scored, 20 lines": (original, "cna_z"),
    "raw, 20 lines": (original, "cna"),
    f"z-scored, {num_cell_lines_few} lines, noisy": (data_poor, "cna_z"),
}
plot_observations(
    data_poor,
    x="cna_z",
    title=f"The data-poor set: {num_cell_lines_few} cell lines, noise sd {true_sigma_noisy:g}",
)

# %% [markdown]
# ## Six models, each sampled repeatedly
#
# Each parameterisation on each data set, with the same sampler settings, measured by the book's convergence checks and by effective draws per second, every repeat kept.

# %% tags=["remove-input", "hide-output"]
model_code(sgrna_copy_number_model)

# %%
settings = experiment.settings
display(experiment)
parameters = ["mu_gamma", "sigma_gamma", "gamma", "mu_delta", "sigma_delta", "delta"]
parameters += ["sigma_alpha", "alpha", "sigma_beta", "beta", "sigma"]
rows = []
for scenario, (observations, covariate) in scenarios.items():
    for parameterization in PARAMETERIZATIONS:
        model = sgrna_copy_number_model(
            observations, covariate=covariate, parameterization=parameterization
        )
        samples = sample_posterior_repeatedly(model, rng, settings, timing_repeats)
        print(f"{scenario}, {parameterization}: {timing_summary(samples[0])}")
        efficiencies = [sampling_efficiency(idata, parameters) for idata in samples]
        rows += [
            {
                "scenario": scenario,
                "parameterization": parameterization.replace("_", "-"),
                "repeat": repeat,
                **efficiency,
            }
            for repeat, efficiency in enumerate(efficiencies)
        ]
        # The first sample is kept; one that fails the checks is marked not for use.
        fit_name = re.sub(r"\W+", "_", f"{scenario} {parameterization}").strip("_")
        status = "use" if efficiencies[0]["converged"] else "pathological"
        table = recovery_table(samples[0], {}, fit_name, parameters, status=status)
        save_fit(artifacts_dir, fit_name, samples[0], table)
repeats = pd.DataFrame(rows)
repeats["scenario"] = pd.Categorical(repeats["scenario"], categories=list(scenarios))
save_table(artifacts_dir, "parameterization_comparison", repeats)
comparison = (
    repeats.groupby(["scenario", "parameterization"], observed=True)
    .agg(
        divergences=("divergences", "sum"),
        converged=("converged", "all"),
        max_r_hat=("max_r_hat", "max"),
        sampling_seconds=("sampling_seconds", "median"),
        sampling_seconds_low=("sampling_seconds", "min"),
        sampling_seconds_high=("sampling_seconds", "max"),
        ess_per_second=("ess_per_second", "median"),
        ess_per_second_low=("ess_per_second", "min"),
        ess_per_second_high=("ess_per_second", "max"),
    )
    .reset_index()
)
display(comparison.round(3))

# %%
plot_efficiency(repeats, title="Centred or non-centred: effective draws per second")

# %% [markdown]
# "converged" applies the book's checks to every repeat: no divergences,
# r-hat at most 1.01, bulk and tail ESS at least 100 per chain; divergences
# are summed over the repeats, times and ESS per second are their median
# (with the lowest and highest). The better form for each data set is the
# one with fewer divergences and, between equals, more effective draws per
# second.

# %%
winners = (
    comparison.sort_values(["divergences", "ess_per_second"], ascending=[True, False])
    .groupby("scenario", observed=True)
    .head(1)
    .sort_values("scenario")[["scenario", "parameterization", "divergences", "ess_per_second"]]
)
display(winners.round(1))


# %% tags=["remove-input"]
def _scenario_line(scenario: str) -> str:
    """Both forms' divergences and speed in one data set, the better first."""
    rows = comparison[comparison["scenario"] == scenario].sort_values(
        ["divergences", "ess_per_second"], ascending=[True, False]
    )
    return f"{scenario}: " + ", against ".join(
        f"{r.parameterization} {r.divergences} divergences and {r.ess_per_second:.0f} "
        f"({r.ess_per_second_low:.0f} to {r.ess_per_second_high:.0f}) effective draws "
        "per second"
        for r in rows.itertuples()
    )


glue_values(
    m6param_results="; ".join(map(_scenario_line, scenarios)) + ".",
    m6param_repeats=timing_repeats,
)

# %% [markdown]
# ## Conclusions
#
# What the measurements above say, and why. In this run (divergences over
# {glue:text}`m6param_repeats` samples each, median and range of ESS per
# second): {glue:text}`m6param_results`

# %% tags=["remove-input"]
rerun_note("m6param", globals())

# %% [markdown]
# - *(defaults)* Where every group is well informed (the original data on the z-scored
#   covariate), the centred form samples cleanly and much faster: the
#   posterior of each effect is narrow and nearly independent of the
#   hierarchy's scale, which is the geometry the centred form suits.
# - *(defaults)* Where the data inform some groups weakly, the centred form meets the
#   funnel: the scale of a group-level sd and the effects under it are
#   strongly dependent, NUTS cannot find one step size for both, and
#   divergences follow. Few cell lines and larger noise do it to every sgRNA;
#   the raw copy number does it to gene C, whose intercept at zero copies no
#   observation reaches. The non-centred form removes the funnel and its
#   divergences, but not always the slow mixing: where the table marks it
#   not converged, its r-hat or ESS missed the book's thresholds in some
#   repeat. Model 6
#   removes the cause instead: centred at two copies, gene C's intercept is
#   observed, and `target_accept = 0.95` is enough.
# - Neither form is right in general, and neither is free: the non-centred
#   form spends longer trajectories on data-rich groups. Measure, as here,
#   before choosing; a mixed model (centred for data-rich levels, non-centred
#   for the others) is also allowed.
# - Divergences are the signal to act on, not a nuisance: the runs with
#   divergences are the ones whose estimates cannot be trusted, whatever
#   their ESS.

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor
