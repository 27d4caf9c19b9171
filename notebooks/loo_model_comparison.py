# %% [markdown]
# # Model comparison by PSIS-LOO: what it tells and what it does not
#
# Several chapters fit more than one model to the same data, and compare the
# ones that converged with approximate leave-one-out cross-validation
# (PSIS-LOO): model 4 its recommended model under two scale priors, model 6
# the published and the corrected covariate, model 7 the models that
# converged. This chapter gathers those comparisons, explains how to read
# them, and shows on these examples where the comparison is the right tool
# and where it is silent.
#
# Only converged fits are compared. A fit whose chains did not mix (the
# original models 4, 5 and 6.2, 7b and 7c, run short to show their
# problems) does not represent its posterior, so an `elpd_loo` computed
# from its draws would not either; the chapters leave them out and say so
# under each table.
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

from crispr_models.checks.diagnostics import PARETO_K_MAX
from crispr_models.core.artifacts import collect_tables, generated_dir
from crispr_models.core.prose import glue_values
from crispr_models.plots.checks import plot_pareto_k

# %% tags=["parameters"]
comparison_chapters = ("m4", "m6", "m7")  # chapters whose LOO tables to gather
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
plot_pareto_k(pareto_k, PARETO_K_MAX, title="Pareto k per observation, by chapter and model")


# %% tags=["remove-input"]
def _bad_k(chapter: str) -> str:
    rows = comparisons[comparisons["chapter"] == chapter]
    return ", ".join(f"{r.label} {r.bad_pareto_k}" for r in rows.itertuples())


def _difference(chapter: str) -> float:
    return float(comparisons.loc[comparisons["chapter"] == chapter, "elpd_diff"].abs().max())


glue_values(
    loo_threshold=PARETO_K_MAX,
    **{f"loo_{c}_bad_k": _bad_k(c) for c in comparison_chapters},
    **{f"loo_{c}_difference": _difference(c) for c in comparison_chapters},
    loo_m7_labels=", ".join(comparisons.loc[comparisons["chapter"] == "m7", "label"]),
)

# %% [markdown]
# ## Reading the comparisons
#
# Each finding below is read off the tables above, in this run's numbers.
#
# **Model 4: two priors, one prediction.** The zero-sum model with
# $\text{Exp}(1)$ and with $\text{HalfNormal}(5)$ scales differ by
# {glue:text}`loo_m4_difference:.2f` in `elpd_loo`. *(defaults)* Twenty
# cell lines outweigh either prior on the scales, so the predictions, and
# the posteriors of the scales, barely move: the prior choice is settled by
# the prior predictive check, not by LOO.
#
# **Model 6: same predictions, different questions.** The published model
# uses the copy number z-scored within each gene, the corrected one the raw
# copy number; their `elpd_loo` differ by
# {glue:text}`loo_m6_difference:.2f`. With a free intercept and slope per
# sgRNA the two are reparameterisations of nearly the same regression, so
# their predictive densities are close. What differs is what the parameters
# mean: the z-scored slope is not the effect of one extra copy, which the
# simulation asked for. LOO cannot choose between scientific questions.
#
# **Model 7: where the comparison breaks.** Compared here:
# {glue:text}`loo_m7_labels` (the fits of 7b and 7c did not converge).
# Observations with Pareto $k$ above {glue:text}`loo_threshold`, per fit:
# {glue:text}`loo_m7_bad_k`. Where a fit has many, its `elpd_loo` is not a
# reliable estimate, and the chapter draws no ranking from it: 7a's
# intercepts, one per gene and cell line, rest on a handful of observations
# each, and leaving one out moves its intercept too far for importance
# sampling to follow. A model with a parameter per small group has to be
# compared by refitting without whole groups (K-fold by cell line or by
# sgRNA), which is also the right question for a new cell line.
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
# - Whether the parameters are identified. The originals of models 4, 5 and
#   6.2 add a direction along which the parameters move and no prediction
#   changes; had they converged, LOO would have found them equal to their
#   repairs. The convergence checks and the recovery tables see that
#   direction; LOO cannot.
#
# ## Conclusions
#
# - Use PSIS-LOO to compare how well models that converged predict new
#   observations of the kind already seen, and check Pareto $k$ before
#   reading its numbers.
# - Compare only fits that converged, and draw no ranking from a fit whose
#   Pareto $k$ say its `elpd_loo` is unreliable.
# - Equal `elpd_loo` does not make two models equally good: model 6's two
#   covariates predict alike and answer different questions.

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv
