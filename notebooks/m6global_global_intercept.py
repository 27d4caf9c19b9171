# %% [markdown]
# # Model 6.2: a global intercept
#
# The original added a global intercept to model 6, $\mu = \alpha + \alpha_s +
# \beta_s X$, and found the fit "way too flexible": 342 s of sampling, the
# maximum tree depth, effective sample sizes below 200, and, its author
# noted, no divergences. This chapter shows why (the global intercept and
# the mean of the gene intercepts are the same quantity, twice) and fits the
# identifiable version, in which the global intercept replaces that mean.
#
# ## The two models
#
# Model 6 (see the [model 6 chapter](m6)) with a global intercept added:
#
# $$
# \begin{aligned}
# \text{logFC} &\sim \mathcal{N}(\alpha + \alpha_s + \beta_s X,\ \sigma), \quad
# \alpha \sim \mathcal{N}(0, 3) \\
# \alpha_s &\sim \mathcal{N}(\gamma_{g[s]}, \sigma_\alpha), \quad
# \gamma_g \sim \mathcal{N}(\mu_\gamma, \sigma_\gamma) \quad
# \text{(original: redundant)} \\
# \gamma &\sim \text{ZeroSumNormal}(\sigma_\gamma) \quad \text{(zero-sum: identifiable)}
# \end{aligned}
# $$
#
# In the original, only $\alpha + \mu_\gamma$ reaches the data: adding $k$ to
# $\alpha$ and taking it from $\mu_\gamma$ (which carries the $\gamma_g$ and
# $\alpha_s$ along) changes nothing. Constraining the gene intercepts to sum
# to zero (`pm.ZeroSumNormal`) makes $\alpha$ the mean gene intercept and the
# gene effects deviations from it. (Re-centring them on zero,
# $\gamma_g \sim \mathcal{N}(0, \sigma_\gamma)$, is identifiable too, but with
# five genes the split between $\alpha$ and the $\gamma_g$ then rests on that
# prior alone; that variant is not fitted here.)
#
# Both models are fitted on the raw copy number, the scale the data are made
# on. Model 6's gene C, held at two copies, makes that scale hard to sample
# for reasons unrelated to the intercept (see [centred or
# non-centred](m6param)); to isolate the global intercept, the data here give
# every gene copy-number variation (Poisson rate 1.2 for gene C) and are
# otherwise simulated as model 6's. With every gene informed, the centred
# form samples well. The intercepts are therefore effects at zero copies
# (chapter {doc}`m6` centres at two copies, the meaningful reference); on
# this design centring at two copies does not make the global intercept
# easier to sample, as `benchmarks/copy_number_centring.py --model m6global`
# measures, because the trade-off studied here is between the global and
# the gene intercepts, whatever the covariate's origin.

# %% tags=["hide-cell"]
import numpy as np
import pymc as pm
from IPython.display import display

from crispr_models.checks.diagnostics import (
    posterior_draws,
    sampling_efficiency,
)
from crispr_models.core.prose import glue_values, model_code, rerun_note
from crispr_models.core.workflow import Experiment
from crispr_models.plots.checks import plot_predictive_checks
from crispr_models.plots.series import plot_observations, plot_pair, plot_recovery, plot_trace
from crispr_models.series.models import sgrna_copy_number_model
from crispr_models.series.simulation import global_intercept_truth, simulate_sgrna_copy_number

# %% tags=["parameters"]
seed = 103  # seeds the simulation and every sampling step
num_cell_lines = 20  # cell lines
copy_number_rates = (1.0, 0.8, 1.2, 1.5, 2.0)  # Poisson rate per gene; None: held at 2
parameterization = "centred"  # centred or non_centred
artifacts_dir = ""  # set by crispr-models run: where the NetCDF and summary.csv go

# %% [markdown]
# ## Simulated data
#
# Data simulated from known values, so that every fit below can be checked against the truth.

# %%
rng = np.random.default_rng(seed)
experiment = Experiment.from_parameters("m6global", rng, globals())
data, truth = experiment.simulate(simulate_sgrna_copy_number, rng)
plot_observations(data, x="cna", title="Model 6.2: logFC against copy number")

# %% [markdown]
# ## The original model 6.2 (pathological)
#
# The original's model, fitted briefly to show what its redundant intercept does to sampling.

# %% tags=["remove-input", "hide-output"]
model_code(sgrna_copy_number_model)

# %%
redundant = sgrna_copy_number_model(
    data, parameterization=parameterization, global_intercept="redundant"
)
redundant_fit = experiment.fit(
    redundant, "redundant_global_intercept", truth, status="pathological"
)
print("largest tree depth:", sampling_efficiency(redundant_fit.idata)["max_tree_depth"])
redundant_fit

# %% [markdown]
# The two intercepts slide against each other along a line of slope $-1$:
# each is far less certain than their sum, the only thing the data see.

# %%
pair = posterior_draws(redundant_fit.idata, ["alpha_global", "mu_gamma"])
display(pair.assign(sum=pair["alpha_global"] + pair["mu_gamma"]).std().rename("posterior sd"))
plot_pair(
    pair,
    "alpha_global",
    "mu_gamma",
    title="Original model 6.2: global intercept against the gene mean",
)

# %% [markdown]
# ## The identifiable model: zero-sum gene intercepts
#
# The repair: the global intercept kept, the gene intercepts made deviations from it.

# %%
model = sgrna_copy_number_model(
    data, parameterization=parameterization, global_intercept="zero_sum"
)
pm.model_to_graphviz(model)

# %% [markdown]
# ## Fit and convergence
#
# The zero-sum version with the full settings, held to every check.

# %%
gene_level = ["alpha_global", "sigma_gamma", "gamma", "mu_delta", "sigma_delta", "delta"]
sgrna_level = ["sigma_alpha", "alpha", "sigma_beta", "beta", "sigma"]
checked = experiment.fit(
    model,
    "global_intercept_zero_sum_genes",
    global_intercept_truth(truth),
    gene_level + sgrna_level,
)
checked

# %% [markdown]
# ## Recovery of the true values
#
# The truth re-expressed the same way: $\alpha$ is the mean of the five
# simulated gene intercepts, and the gene and sgRNA intercepts are measured
# from it.

# %%
plot_recovery(checked.table)

# %%
plot_trace(checked.idata, ["alpha_global", "sigma_gamma", "gamma", "mu_delta", "sigma"])

# %% [markdown]
# ## Predictive checks
#
# The zero-sum model's prior (left) is model 6's with the global intercept
# moved out of the genes; its posterior draws (right) should reproduce the
# data as model 6's do.

# %%
plot_predictive_checks(checked.idata)

# %% [markdown]
# ## Conclusions
#
# What the two fits showed, in this run's numbers.

# %% tags=["remove-input"]
glue_values(
    m6global_redundant_r_hat=redundant_fit.report.max_r_hat,
    m6global_redundant_ess=redundant_fit.report.min_ess_bulk,
    m6global_redundant_divergences=redundant_fit.report.divergences,
    m6global_covered=checked.covered,
    m6global_known=checked.known,
)
rerun_note("m6global", globals())

# %% [markdown]
# - A hierarchical prior with a free mean already is an intercept. Adding a
#   global intercept on top duplicates it; the sum is identified, the parts
#   only by their priors. The original's slow sampling, maximum tree depth and
#   low ESS were that flat direction (here: r-hat
#   {glue:text}`m6global_redundant_r_hat:.2f`, lowest bulk ESS
#   {glue:text}`m6global_redundant_ess:.0f`,
#   {glue:text}`m6global_redundant_divergences` divergences): a flat direction
#   is not a funnel, just a long way to travel.
# - Either drop the global intercept (model 6 as it was) or keep it and make
#   the gene intercepts sum to zero (its 94 % intervals cover
#   {glue:text}`m6global_covered` of the {glue:text}`m6global_known` true
#   values). Both describe the same data; the
#   zero-sum version reads more naturally when other terms are added to the
#   linear predictor, and its global intercept is the average gene's.
# - The same check applies to any new term: if adding a constant to it and
#   subtracting the constant from another term leaves every prediction
#   unchanged, one of the two needs an anchor.

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor
