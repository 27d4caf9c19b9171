# %% [markdown]
# # Model N: what this experiment asks
#
# One paragraph of purpose: which question of the series this model answers,
# what it adds to the previous chapter, and what the reader should look for.
# Copy this file to `notebooks/mN_<slug>.py` (`mN` is the chapter id), add
# the chapter to the registry (`src/crispr_models/core/registry.py`), then replace
# the simulation and the model below with your own helpers from
# `crispr_models.series.simulation` and `crispr_models.series.models`. CONTRIBUTING.md
# walks through every step.
#
# ## The model
#
# State the model in equations; the book typesets them:
#
# $$
# \text{logFC}_c \sim \mathcal{N}(\alpha + \beta R_c,\ \sigma)
# $$

# %% tags=["hide-cell"]
import numpy as np
import pymc as pm

from crispr_models.core.prose import glue_values
from crispr_models.core.settings import SamplerSettings
from crispr_models.core.workflow import fit_and_check
from crispr_models.plots.checks import plot_predictive_check
from crispr_models.plots.series import plot_recovery
from crispr_models.series.models import single_gene_rna_model
from crispr_models.series.simulation import simulate_single_gene_rna

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
# ## Fit and convergence
#
# `fit_and_check` fits, checks convergence (the chapter stops if a check
# fails), compares each posterior with the truth and saves the fit.

# %%
checked = fit_and_check(
    model,
    rng,
    SamplerSettings.from_parameters(globals()),
    name="template_model",
    truth=truth,
    var_names=["alpha", "beta", "sigma"],
    artifacts_dir=artifacts_dir,
)
checked

# %% [markdown]
# ## Prior predictive check
#
# Say what the prior predictive check shows before the posterior is looked at.

# %%
plot_predictive_check(checked.idata, group="prior_predictive")

# %% [markdown]
# ## Recovery of the true values and posterior predictive check
#
# Say what each figure is for.

# %%
plot_recovery(checked.table)

# %%
plot_predictive_check(checked.idata, group="posterior_predictive")

# %% tags=["remove-input"]
glue_values(template_covered=checked.covered, template_known=checked.known)

# %% [markdown]
# ## Conclusions
#
# - What was learned, with the numbers the run computed, glued: the 94 %
#   intervals cover {glue:text}`template_covered` of the
#   {glue:text}`template_known` true values.
# - Which slips of the original this chapter fixes, said openly.
# - What the next chapter changes, and why.

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor
