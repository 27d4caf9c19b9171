# %% [markdown]
# # Model comparison by PSIS-LOO: what it tells and what it does not
#
# Chapters 4, 5, 6, 6.2 and 7 each fit several models to the same data: the
# original model and its repair, or four ways of splitting gene from cell
# line. Each of those chapters ends by comparing its fits with approximate
# leave-one-out cross-validation (PSIS-LOO). This chapter gathers those
# comparisons, explains how to read them, and shows on these examples where
# the comparison is the right tool and where it is silent.
#
# ## What PSIS-LOO estimates
#
# For each observation $i$, leave-one-out cross-validation asks how much
# probability the model, fitted without $i$, gives to $y_i$. Summed over
# observations this is $\text{elpd}_\text{loo} = \sum_i \log p(y_i \mid
# y_{-i})$, the expected log predictive density for a new observation like
# the ones seen. PSIS-LOO {cite:p}`vehtari2017loo` gets it from one fit by
# importance sampling, reweighting the posterior draws by $1/p(y_i \mid
# \theta)$; Pareto smoothing {cite:p}`vehtari2024psis` stabilises the
# weights, and the shape $k$ of the fitted Pareto tail says whether it
# worked: above $0.7$, the estimate for that observation is unreliable
# (refit without it, or use K-fold cross-validation).
#
# `az.compare` ranks the models by $\text{elpd}_\text{loo}$ and gives, for
# each, the difference from the best (`elpd_diff`) with its standard error
# (`dse`), and `p_loo`, the effective number of parameters. A difference of
# less than about 4, or of less than a few `dse`, is not evidence that one
# model predicts better {cite:p}`sivula2020loo`.

# %% tags=["hide-cell"]
from IPython.display import display

from crispr_models import plotting
from crispr_models.artifacts import collect_tables, generated_dir
from crispr_models.diagnostics import PARETO_K_MAX
from crispr_models.prose import glue_values

# %% tags=["parameters"]
comparison_chapters = ("m4", "m5", "m6", "m6global", "m7")  # chapters whose LOO tables to gather
artifacts_dir = ""  # set by crispr-models run; the chapters' outputs are its siblings

# %%
generated = generated_dir(artifacts_dir)
comparisons = collect_tables(generated, comparison_chapters, "loo_comparison")
pareto_k = collect_tables(generated, comparison_chapters, "loo_pareto_k")
columns = ["chapter", "label", "elpd_loo", "p_loo", "elpd_diff", "dse", "max_pareto_k"]
display(
    comparisons[[*columns, "bad_pareto_k"]]
    .style.format({c: "{:.2f}" for c in columns[2:]})
    .hide(axis="index")
)

# %%
plotting.plot_pareto_k(
    pareto_k, PARETO_K_MAX, title="Pareto k per observation, by chapter and model"
)

# %% tags=["remove-input"]
m7 = comparisons[comparisons["chapter"] == "m7"].set_index("label")
m7_k = pareto_k[pareto_k["chapter"] == "m7"].groupby("label")["pareto_k"]
glue_values(
    loo_7a_bad=int(m7.loc["7a", "bad_pareto_k"]),
    loo_7b_bad=int(m7.loc["7b", "bad_pareto_k"]),
    loo_m7_rows=int(m7_k.size().loc["7b"]),
    loo_threshold=PARETO_K_MAX,
)

# %% [markdown]
# ## Reading the comparisons
#
# Each finding below is read off the tables above.
#
# **Models 4, 5 and 6.2: the original and its repair predict alike.** The
# free cell-line intercepts of models 4 and 5, and model 6.2's redundant
# global intercept, add a direction the data cannot see: along it the
# parameters move but every prediction stays the same. The repaired models
# (zero-sum effects) remove that direction and leave the predictions
# unchanged. PSIS-LOO compares predictions, so it finds the pairs equal
# (`elpd_diff` within a `dse` or two), and it would have found them equal
# however badly the original's chains mixed, as long as the draws it used
# covered the posterior predictive distribution. **LOO cannot detect
# non-identifiability**: the chapters' convergence checks and recovery
# tables can, and they are why the repaired models are recommended.
#
# **Model 6: same predictions, different questions.** The published model
# uses the copy number z-scored within each gene, the corrected one the raw
# copy number. With a free intercept and slope per sgRNA the two are
# reparameterisations of nearly the same regression, so their predictive
# densities are close. What differs is what the parameters mean: the
# z-scored slope is not the effect of one extra copy, which the simulation
# asked for. LOO cannot choose between scientific questions.
#
# **Model 7: where the comparison is informative, and where it breaks.**
# The hierarchical 7c predicts best; 7c with sgRNAs pooled into genes loses
# clearly, because it cannot represent the sgRNA spread and inflates the
# noise sd to absorb it. 7a, one intercept per gene and cell line, ignores
# the additive structure and the sgRNAs; its intercepts rest on a handful of
# observations each, and {glue:text}`loo_7a_bad` of its $k$ exceed
# {glue:text}`loo_threshold`. 7b has an intercept for every observation:
# leaving an observation out leaves its intercept with only its prior, the
# importance weights are heavy-tailed, and {glue:text}`loo_7b_bad` of its
# {glue:text}`loo_m7_rows` Pareto $k$ exceed {glue:text}`loo_threshold`, so
# its `elpd_loo` is not to be trusted. That is a
# property of the model, not of the sampler: a model with a parameter per
# observation cannot be cross-validated one observation at a time.
#
# ## What PSIS-LOO does not tell
#
# - Whether the chains converged or the parameters are identified (the
#   convergence checks and recovery tables do that).
# - Whether the posterior is calibrated: that is the previous chapter's
#   simulation-based calibration.
# - How a model predicts a new cell line or a new gene. Leaving out one row
#   keeps every other row of its cell line; predicting an unseen cell line
#   is leave-one-group-out cross-validation, which needs refits (K-fold by
#   cell line), not PSIS on rows.
# - Short, non-converged fits give noisy `elpd_loo`: the original variants
#   here were fitted with short runs to show their problems, so their
#   figures carry more Monte Carlo error than the `se` column shows.
#
# ## Conclusions
#
# - Use PSIS-LOO to compare how well models that converged predict new
#   observations of the kind already seen, and check Pareto $k$ before
#   reading its numbers.
# - Equal `elpd_loo` does not make two models equally good: the repaired
#   models of chapters 4, 5 and 6.2 predict exactly as the originals do and
#   are still the ones to use, because their parameters mean something.

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv
