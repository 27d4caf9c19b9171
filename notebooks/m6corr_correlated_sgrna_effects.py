# %% [markdown]
# # Model 6 with correlated sgRNA intercepts and slopes
#
# An sgRNA that depletes its cells strongly at low copy number may also
# respond more steeply to extra copies: intercept and slope need not be
# independent. The original author wanted to model that correlation with a
# covariance matrix, wrote the model, "was unable to figure out how to do it
# for a multilevel model" and never sampled it. This chapter builds it, with
# an LKJ prior on the correlation in non-centred form, and fits it to data
# simulated with a known correlation of $-0.6$.
#
# ## The model
#
# For sgRNA $s$ of gene $g[s]$ with copy number $X$:
#
# $$
# \begin{aligned}
# \text{logFC} &\sim \mathcal{N}(\alpha_s + \beta_s X,\ \sigma) \\
# \begin{pmatrix} \alpha_s \\ \beta_s \end{pmatrix} &\sim
# \text{MvNormal}\left(\begin{pmatrix} \gamma_{g[s]} \\ \delta_{g[s]} \end{pmatrix},\
# \Sigma\right), \quad
# \Sigma = \begin{pmatrix} \sigma_\alpha & 0 \\ 0 & \sigma_\beta \end{pmatrix}
# P \begin{pmatrix} \sigma_\alpha & 0 \\ 0 & \sigma_\beta \end{pmatrix}, \quad
# P = \begin{pmatrix} 1 & \rho \\ \rho & 1 \end{pmatrix} \sim \text{LKJ}(2) \\
# \gamma_g &\sim \mathcal{N}(\mu_\gamma, \sigma_\gamma), \quad
# \delta_g \sim \mathcal{N}(\mu_\delta, \sigma_\delta), \quad
# \mu_\gamma, \mu_\delta \sim \mathcal{N}(-1, 5) \\
# \sigma_\alpha, \sigma_\beta, \sigma_\gamma, \sigma_\delta, \sigma &\sim \text{Exp}(1)
# \end{aligned}
# $$
#
# `pm.LKJCholeskyCov` gives the Cholesky factor $L$ of $\Sigma$ with the sds
# and the correlation. The non-centred form samples $z_s \sim \mathcal{N}(0,
# I_2)$ and sets $(\alpha_s, \beta_s) = (\gamma_{g[s]}, \delta_{g[s]}) + L z_s$,
# which avoids the funnel between the sds and the effects; the gene level is
# non-centred the same way.
#
# A correlation is a property of the population of sgRNAs, so it needs many
# of them, spread widely enough to be seen through the noise. Model 6's 15
# sgRNAs with sds of 0.2 would leave $\rho$ almost at its prior. The
# simulation here uses 10 genes with 5 sgRNAs each (50 sgRNAs, 1000 rows),
# $\sigma_\alpha = \sigma_\beta = 0.5$ and $\rho = -0.6$; the other values are
# model 6's, and every gene's copy number varies (no gene held at two copies).

# %%
import time

notebook_start = time.perf_counter()

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
from IPython.display import display

from crispr_models.artifacts import save_fit
from crispr_models.diagnostics import (
    convergence_report,
    coverage_summary,
    fit_summary,
    posterior_draws,
    recovery_table,
)
from crispr_models.fitting import SamplerSettings, fit, timing_summary
from crispr_models.models import correlated_sgrna_copy_number_model
from crispr_models.plotting import (
    plot_observations,
    plot_pair,
    plot_predictive_check,
    plot_recovery,
    plot_trace,
)
from crispr_models.simulation import simulate_sgrna_copy_number

# %% tags=["parameters"]
seed = 103  # seeds the simulation and every sampling step
num_genes = 10  # genes in the screen
sgrnas_per_gene = 5  # sgRNAs targeting each gene
num_cell_lines = 20  # cell lines
true_rho = -0.6  # correlation of an sgRNA's intercept and slope
true_sigma_alpha = 0.5  # spread of sgRNA intercepts around their gene
true_sigma_beta = 0.5  # spread of sgRNA slopes around their gene
true_mu_gamma = -0.5  # mean gene intercept
true_sigma_gamma = 0.5  # spread of gene intercepts
true_mu_delta = -1.0  # mean gene copy-number slope
true_sigma_delta = 1.0  # spread of gene slopes
true_sigma = 0.3  # observation noise
lkj_eta = 2.0  # LKJ shape: 1 is uniform over correlations, larger favours 0
draws = 1000  # posterior draws per chain
tune = 1000  # warm-up draws per chain
chains = 4  # independent chains
sampler = "nutpie"  # nutpie, pymc or numpyro
target_accept = 0.95  # NUTS step-size target
prior_draws = 500  # prior predictive draws
artifacts_dir = ""  # set by crispr-models run: where the NetCDF and summary.csv go

# %% [markdown]
# ## Simulated data

# %%
rng = np.random.default_rng(seed)
rates = (1.0, 0.8, 1.2, 1.5, 2.0)  # model 6's, with gene C varying too
simulated = simulate_sgrna_copy_number(
    rng,
    sgrnas_per_gene=(sgrnas_per_gene,) * num_genes,
    num_cell_lines=num_cell_lines,
    copy_number_rates=[rates[i % len(rates)] for i in range(num_genes)],
    mu_gamma=true_mu_gamma,
    sigma_gamma=true_sigma_gamma,
    sigma_alpha=true_sigma_alpha,
    mu_delta=true_mu_delta,
    sigma_delta=true_sigma_delta,
    sigma_beta=true_sigma_beta,
    rho=true_rho,
    sigma=true_sigma,
)
data, truth = simulated.observations, simulated.truth
plot_observations(
    data,
    x="cna",
    x_label="copy number",
    title="Model 6 corr: logFC against copy number",
    facet="gene",
)

# %% [markdown]
# The simulated sgRNA effects, each measured from its gene's mean: the
# correlation the model should find.

# %%
gene_of_sgrna = data.groupby("sgrna", observed=True)["gene"].first().astype(str)
deviations = pd.DataFrame(
    {
        "intercept": truth["alpha"] - truth["gamma"].reindex(gene_of_sgrna).to_numpy(),
        "slope": truth["beta"] - truth["delta"].reindex(gene_of_sgrna).to_numpy(),
    }
)
print(f"sample correlation of the 50 simulated pairs: {deviations.corr().iloc[0, 1]:+.2f}")
plot_pair(deviations, "intercept", "slope", title="Simulated sgRNA deviations from their gene")

# %% [markdown]
# ## Model graph

# %%
model = correlated_sgrna_copy_number_model(data, eta=lkj_eta)
pm.model_to_graphviz(model)

# %% [markdown]
# ## Fit

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

# %% [markdown]
# ## Prior predictive check

# %%
plot_predictive_check(idata, group="prior_predictive")

# %% [markdown]
# ## Convergence

# %%
parameters = [
    "mu_gamma",
    "sigma_gamma",
    "gamma",
    "mu_delta",
    "sigma_delta",
    "delta",
    "sigma_alpha",
    "sigma_beta",
    "rho",
    "alpha",
    "beta",
    "sigma",
]
report = convergence_report(idata, parameters)
display(report)
report.require()

# %% [markdown]
# ## Recovery of the true values

# %%
model_name = "correlated_effects"
table = recovery_table(idata, truth, model_name, parameters)
save_fit(artifacts_dir, model_name, idata, table)
print(coverage_summary(table))
population = ["mu_gamma", "sigma_gamma", "mu_delta", "sigma_delta"]
population += ["sigma_alpha", "sigma_beta", "rho", "sigma"]
table.set_index("parameter").loc[population].drop(columns="model").round(3)

# %% [markdown]
# An sgRNA's intercept and slope are estimated together, and their errors are
# strongly (negatively) correlated: the copy number is never zero, so the
# intercept is an extrapolation along the slope. A miss therefore tends to
# come as a pair, and the share of covered parameters in one data set varies
# more than independent intervals would suggest.

# %%
missed = table.loc[~table["hdi_covers_truth"].astype(bool), "parameter"]
missed_sgrnas = missed[missed.str.match(r"(alpha|beta)\[")].str.extract(r"\[(.*)\]")[0]
print(f"{len(missed)} of {len(table)} intervals miss their true value")
print(
    "sgRNAs missed in both intercept and slope:",
    sorted(set(missed_sgrnas[missed_sgrnas.duplicated()])),
)

# %%
plot_recovery(
    table[
        table["parameter"].isin(population) | table["parameter"].str.startswith(("gamma", "delta"))
    ],
    title="Model 6 corr: posterior (blue) against the truth (red)",
)

# %% [markdown]
# The posterior of the correlation against its LKJ(2) prior: the data move it
# well away from zero, towards the simulated value.

# %%
rho = posterior_draws(idata, ["rho"])["rho"]
prior_rho = az.extract(idata, group="prior", var_names=["rho"]).to_numpy()
print(
    f"rho: prior mean {prior_rho.mean():+.2f}, sd {prior_rho.std():.2f}; "
    f"posterior mean {rho.mean():+.2f}, sd {rho.std():.2f} (its 94 % HDI is in the table above)"
)
plot_trace(idata, ["rho", "sigma_alpha", "sigma_beta", "mu_delta", "sigma"])

# %% [markdown]
# ## Posterior predictive check

# %%
plot_predictive_check(idata, group="posterior_predictive")

# %% [markdown]
# ## Conclusions
#
# - The model the original could not write takes three lines in PyMC 5:
#   `pm.LKJCholeskyCov` for the sds and the correlation, a standard normal
#   per sgRNA, and the Cholesky factor to correlate them. The non-centred form
#   samples without divergences.
# - The correlation is recovered, with an interval that says how much 50
#   sgRNAs can tell: a correlation is estimated from the population of
#   sgRNAs, so its precision grows with their number, not with the cell lines.
# - With the default seed every population parameter is covered. Per sgRNA,
#   the 94 % intervals should miss about 6 of 100 effects; with the default
#   seed they miss more, in intercept-slope pairs of the same sgRNAs. One
#   data set cannot say whether that is chance or miscalibration;
#   {doc}`simulation-based calibration <sbc>` over 200 data sets says
#   chance: there the intervals of the sgRNA intercepts and slopes cover
#   the truth as often as they should.
# - With model 6's 15 sgRNAs and sds of 0.2 against noise 0.3, the same model
#   would return a posterior for $\rho$ close to its prior: the original's
#   data could not have answered the question it wanted to ask. Designing the
#   simulation for the question comes first.

# %%
print(f"{model_name}: {fit_summary(report, table)}")
print(timing_summary(idata))
print(f"notebook run time: {time.perf_counter() - notebook_start:.1f} s")

# %% [markdown]
# ## Watermark

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p nutpie,pytensor
