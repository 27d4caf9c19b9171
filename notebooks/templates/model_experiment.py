# %% [markdown]
# # Model N: what this experiment asks
#
# One paragraph of purpose: which question of the series this model answers,
# what it adds to the previous chapter, and what the reader should look for.
# Copy this file to `notebooks/mN_<slug>.py` (`mN` is the chapter id), then
# replace the simulation and the model below with your own helpers from
# `crispr_models.simulation` and `crispr_models.models`. CONTRIBUTING.md
# walks through every step.
#
# ## The model
#
# State the model in equations; the book typesets them:
#
# $$
# \text{logFC}_c \sim \mathcal{N}(\alpha + \beta R_c,\ \sigma)
# $$

# %%
import numpy as np
import pymc as pm
from IPython.display import display

from crispr_models.artifacts import save_fit
from crispr_models.diagnostics import convergence_report, coverage_summary, recovery_table
from crispr_models.fitting import SamplerSettings, fit, timing_summary
from crispr_models.models import single_gene_rna_model
from crispr_models.plotting import plot_predictive_check, plot_recovery
from crispr_models.simulation import simulate_single_gene_rna

# %% tags=["parameters"]
seed = 2026  # seeds the simulation and every sampling step
num_cell_lines = 20  # size of the simulated screen
draws = 1000  # posterior draws per chain
tune = 1000  # warm-up draws per chain
chains = 4  # independent chains
sampler = "nutpie"  # nutpie, pymc or numpyro
target_accept = 0.8  # NUTS step-size target
prior_draws = 500  # prior predictive draws
artifacts_dir = ""  # set by crispr-models run: where the NetCDF and summary.csv go

# %% [markdown]
# ## Simulated data
#
# One generator, created from the seed, is passed to every step that draws.

# %%
rng = np.random.default_rng(seed)
simulated = simulate_single_gene_rna(rng, num_cell_lines=num_cell_lines)
data, truth = simulated.observations, simulated.truth
model = single_gene_rna_model(data)
pm.model_to_graphviz(model)

# %% [markdown]
# ## Fit, prior predictive check and convergence
#
# Say what the prior predictive check shows before the posterior is looked at.

# %%
settings = SamplerSettings(
    draws=draws,
    tune=tune,
    chains=chains,
    sampler=sampler,
    target_accept=target_accept,
    prior_draws=prior_draws,
)
idata = fit(model, rng, settings)
print(timing_summary(idata))
plot_predictive_check(idata, group="prior_predictive")

# %%
parameters = ["alpha", "beta", "sigma"]
report = convergence_report(idata, parameters)
display(report)
report.require()  # stops the run (and the book) when the fit has not converged

# %% [markdown]
# ## Recovery of the true values and posterior predictive check

# %%
model_name = "template_model"
table = recovery_table(idata, truth, model_name, parameters)
save_fit(artifacts_dir, model_name, idata, table)
print(coverage_summary(table))
plot_recovery(table, title="Model N: posterior (blue) against the truth (red)")

# %%
plot_predictive_check(idata, group="posterior_predictive")

# %% [markdown]
# ## Conclusions
#
# - What was learned, with the numbers that show it.
# - Which slips of the original this chapter fixes, said openly.
# - What the next chapter changes, and why.

# %% [markdown]
# ## Watermark

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor
