# %% [markdown]
# # Model 1: one gene, one covariate
#
# The smallest model of the series and the template for the rest: the log
# fold change (logFC) of one gene's knockout across cancer cell lines,
# explained by the gene's RNA expression in each line. We simulate data with
# known truth, check the priors, fit with NUTS, check convergence and ask
# whether the posterior recovers the values that made the data.
#
# ## The model
#
# For cell line $c$ with standardised RNA expression $R_c$:
#
# $$
# \begin{aligned}
# \text{logFC}_c &\sim \mathcal{N}(\alpha + \beta R_c,\ \sigma) \\
# \alpha &\sim \mathcal{N}(0, 10) \qquad
# \beta \sim \mathcal{N}(0, 1) \qquad
# \sigma \sim \text{HalfNormal}(5)
# \end{aligned}
# $$
#
# The data are simulated with 20 cell lines, $\alpha = 0.5$, $\beta = -1$ and
# $\sigma = 0.3$, as in the original. Its code is not among the surviving
# notebooks, so these are fresh draws with the same settings, not a
# draw-for-draw reproduction.

# %% tags=["hide-cell"]
import numpy as np
import pymc as pm
from IPython.display import display

from crispr_models.checks.diagnostics import (
    HDI_LOWER,
    HDI_UPPER,
    convergence_report,
    coverage_summary,
    recovery_table,
)
from crispr_models.core.artifacts import save_fit
from crispr_models.core.fitting import fit, timing_summary
from crispr_models.core.prose import glue_values, model_code, rerun_note
from crispr_models.core.workflow import Experiment
from crispr_models.plots.checks import plot_predictive_check
from crispr_models.plots.series import (
    plot_data_with_truth,
    plot_posterior_lines,
    plot_recovery,
    plot_trace,
)
from crispr_models.series.models import single_gene_rna_model
from crispr_models.series.simulation import simulate_single_gene_rna

# %% tags=["parameters"]
seed = 103  # seeds the simulation and every sampling step
num_cell_lines = 20  # cell lines in the screen
true_alpha = 0.5  # intercept: logFC at average expression
true_beta = -1.0  # change in logFC per sd of RNA expression
true_sigma = 0.3  # observation noise
artifacts_dir = ""  # set by crispr-models run: where the NetCDF and summary.csv go

# %% [markdown]
# ## Simulated data
#
# One generator, created from the seed, is passed to every step that draws
# random numbers.

# %%
rng = np.random.default_rng(seed)
experiment = Experiment.from_parameters("m1", rng, globals())
simulated = simulate_single_gene_rna(
    rng,
    num_cell_lines=num_cell_lines,
    alpha=true_alpha,
    beta=true_beta,
    sigma=true_sigma,
)
data, truth = simulated.observations, simulated.truth
data.head()

# %%
plot_data_with_truth(data, truth, title="Model 1: simulated logFC against RNA expression")

# %% [markdown]
# ## Model graph
#
# Which parameters the data inform directly, and which only through the hierarchy.

# %% tags=["remove-input", "hide-output"]
model_code(single_gene_rna_model)

# %%
model = single_gene_rna_model(data)
pm.model_to_graphviz(model)

# %% [markdown]
# ## Fit
#
# This chapter writes the standard workflow out step by step; the later
# chapters do the same steps with one call, `fit_and_check`. `fit` draws from
# the prior predictive, runs NUTS (nutpie by default) and draws from the
# posterior predictive, all seeded from `rng`.

# %%
settings = experiment.settings
display(experiment)
idata = fit(model, rng, settings)
print(timing_summary(idata))

# %% [markdown]
# ## Prior predictive check
#
# The $\mathcal{N}(0, 10)$ prior on the intercept lets simulated logFC range
# over tens of units, far beyond the $-3$ to $1$ seen in real screens. The
# data overrule it easily, but it is vaguer than it needs to
# be; later chapters tighten such priors.

# %%
plot_predictive_check(idata, group="prior_predictive")

# %% [markdown]
# ## Convergence
#
# No divergences, r-hat at most 1.01 and at least 100 effective draws per
# chain {cite}`vehtari2021rank`; the notebook stops here otherwise.

# %%
parameters = ["alpha", "beta", "sigma"]
report = convergence_report(idata, parameters)
display(report)
report.require()

# %% [markdown]
# ## Recovery of the true values
#
# Each posterior's mean, sd and 94 % highest-density interval next to the
# value that simulated the data; the fit and this table are saved beside the
# run (`summary.csv`), with status `use`.

# %%
table = recovery_table(idata, truth, "single_gene_rna", parameters)
save_fit(artifacts_dir, "single_gene_rna", idata, table)
print(coverage_summary(table))
table.drop(columns=["fit", "status"]).round(3)

# %% [markdown]
# A forest plot of the same table: each posterior's mean and 94 % HDI, with
# the true value as a red cross (a diamond where the interval misses it).

# %%
plot_recovery(table, title="Model 1: posterior (blue) against the truth (red)")

# %% [markdown]
# The trace plot: every chain's draws (right) and their densities (left). The
# chains should overlap and look like noise around a fixed level.

# %%
plot_trace(idata, parameters)

# %% [markdown]
# ## Posterior predictive check
#
# Data sets simulated from the fitted model should look like the observed one.

# %%
plot_predictive_check(idata, group="posterior_predictive")

# %% [markdown]
# ## Posterior lines over the data
#
# The original's last figure: lines drawn from the posterior over the data,
# the true line dashed.

# %%
plot_posterior_lines(idata, data, truth, title="Model 1: posterior lines over the data")

# %% [markdown]
# ## Conclusions
#
# What this run found, in its own numbers.

# %% tags=["remove-input"]
beta_row = table.set_index("parameter").loc["beta"]
glue_values(
    m1_divergences=report.divergences,
    m1_min_ess=report.min_ess_bulk,
    m1_total_draws=idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"],
    m1_covered=int(table["hdi_covers_truth"].astype(bool).sum()),
    m1_known=len(table),
    m1_num_cell_lines=num_cell_lines,
    m1_beta_half_width=float(beta_row[HDI_UPPER] - beta_row[HDI_LOWER]) / 2,
)
rerun_note("m1", globals())

# %% [markdown]
# - The model samples cleanly: {glue:text}`m1_divergences` divergences and at
#   least {glue:text}`m1_min_ess:.0f` effective draws from
#   {glue:text}`m1_total_draws`.
# - {glue:text}`m1_covered` of the {glue:text}`m1_known` true values lie
#   inside their 94 % intervals; {glue:text}`m1_num_cell_lines` cell lines
#   determine the slope to about $\pm$ {glue:text}`m1_beta_half_width:.2f`
#   (half the interval's width).
# - As the original put it, the model "fit well and is easy to interpret": the
#   intercept is the logFC at average expression and the slope the change per
#   standard deviation of expression. Its weakness is that it describes one
#   gene; model 2 shares information across many.

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor
