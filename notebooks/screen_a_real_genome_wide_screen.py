# %% [markdown]
# # A real genome-wide screen: read counts, copy number and known essential genes
#
# Every other chapter fits simulated data. This one fits a real screen: the
# breast cancer cell line AU565 from Sanger's Project Score
# {cite:p}`behan2019prioritization`, read counts of the 90,706 sgRNAs of the
# Yusa v1.1 library in three replicates and the plasmid they were grown
# from, with AU565's copy-number segments and the curated BAGEL reference
# sets of essential and non-essential genes {cite:p}`hart2017evaluation`, as
# CRISPY ships them {cite:p}`goncalves2019structural`. It shows how amplified
# regions make naive fold changes call genes essential, fits the series'
# final kind of model (a negative binomial of read counts, sgRNAs nested in
# genes, a copy-number effect shared by all guides), checks it, and measures
# both analyses against the reference genes.
#
# **Scope of this version.** The count model is fitted with NUTS on a
# sample of genes (`sample_genes`, all reference genes up to half of them);
# `sample_genes = 0` fits every gene, which takes much longer than the book's
# budget on two cores (see the benchmark script
# `benchmarks/screen_scaling.py`). The naive analysis covers the whole genome.
#
# Your own screen loads the same way: a counts CSV (first column the guide
# id, one column per sample, one of them the plasmid), a library CSV
# (`sgRNA_ID`, `Gene`, `chr`, `start`, `end`) and, optionally, copy-number
# segments (`Chr`, `Start`, `End`, `copy_number`):
#
# ```python
# from crispr_models.screen_data import load_screen
# screen = load_screen("counts.csv", "plasmid", "library.csv", "segments.csv")
# ```

# %% tags=["hide-cell"]
import numpy as np
import pandas as pd
from IPython.display import display

from crispr_models import plotting
from crispr_models.artifacts import save_table
from crispr_models.diagnostics import convergence_report
from crispr_models.fitting import sample_posterior, sample_prior_predictive, timing_summary
from crispr_models.predictive_checks import flag_matrix, grouped_checks
from crispr_models.prose import glue_values, rerun_note
from crispr_models.screen_analysis import (
    by_copy_number,
    choose_genes,
    copy_number_effect_table,
    essentiality_auc,
    essentiality_calls,
    essentiality_curves,
    gene_effects,
    guide_check_table,
    predictive_tree,
    reference_labels,
    replicate_log_fold_changes,
)
from crispr_models.screen_data import (
    crispy_file,
    gene_median_log_fold_change,
    load_crispy_screen,
    load_gene_set,
    log_fold_changes,
)
from crispr_models.screen_model import copy_number_level, read_count_model
from crispr_models.workflow import Experiment

# %% tags=["parameters"]
seed = 103  # seeds the gene sample and every sampling step
sample_genes = 1500  # genes the count model fits (0: every gene)
min_plasmid_reads = 30  # guides with fewer plasmid reads are dropped
essential_threshold = -1.0  # a gene is essential if its effect is below this log2 fold change
call_probability = 0.95  # posterior probability needed to call a gene essential
predictive_draws = 100  # posterior draws replicated for the predictive checks
artifacts_dir = ""  # set by crispr-models run: where the tables go

# %% tags=["remove-cell"]
rerun_note("screen", globals())

# %% [markdown]
# ## The screen
#
# Guides are dropped when the plasmid holds fewer than `min_plasmid_reads`
# reads (their fold changes are noise) or when no copy-number segment holds
# their cut site.

# %%
rng = np.random.default_rng(seed)
experiment = Experiment.from_parameters("screen", rng, globals())
screen = load_crispy_screen(min_plasmid_reads)
essential = load_gene_set(crispy_file("essential"))
non_essential = load_gene_set(crispy_file("non_essential"))
reference = reference_labels(screen.genes, essential, non_essential)
print(
    f"{len(screen.guides):,} guides of {screen.genes.size:,} genes in "
    f"{len(screen.replicates)} replicates; dropped: {screen.dropped}"
)
print(reference.value_counts().to_string())
display(screen.guides.head())

# %% [markdown]
# ## The naive analysis and copy number
#
# Each guide's log2 fold change against the plasmid (reads per million,
# pseudocount 0.5, mean of the replicates), and each gene's median over its
# guides. Along the chromosomes, coloured by copy number: the amplified
# regions drop as a block, genes and all, because each extra copy is one more
# DNA cut, which slows the cells whatever the gene does
# {cite:p}`aguirre2016genomic`.

# %%
naive = gene_median_log_fold_change(screen)
gene_place = screen.guides.groupby("gene").agg(
    chr=("chr", "first"), position=("position", "median"), copy_number=("copy_number", "median")
)
along = gene_place.join(naive.rename("score")).assign(
    method="naive median", copy_number=lambda d: copy_number_level(d["copy_number"])
)
plotting.plot_along_genome(along.reset_index(), "Naive gene log2 fold change along the genome")

# %% [markdown]
# By copy number, the naive scores of all genes fall with every copy above
# two, so a threshold on them calls amplified genes essential.

# %%
naive_by_cn = by_copy_number(screen, {"naive median": naive})
naive_medians = naive_by_cn.groupby("copy_number")["score"].median()
display(naive_medians.rename("median naive log2 fold change").to_frame().T.round(2))
naive_calls = naive < essential_threshold
high_copy = gene_place["copy_number"] >= 6
print(
    f"naive calls (median below {essential_threshold}): {naive_calls.sum():,} genes; "
    f"{naive_calls[high_copy].mean():.1%} of genes at 6 or more copies against "
    f"{naive_calls[~high_copy].mean():.1%} of the others"
)

# %% [markdown]
# ## The count model
#
# {py:func}`crispr_models.screen_model.read_count_model`, on the genes
# chosen below:
#
# $$
# \begin{aligned}
# y_{sr} &\sim \text{NegBinom}(\mu_{sr}, \alpha), \quad
# \log \mu_{sr} = \log\left(N_r \frac{p_s}{N_p}\right) + \ln 2 \; \theta_s \\
# \theta_s &\sim N(\beta_{g[s]} + f(c_s), \sigma_{\text{guide}}), \quad
# \beta_g \sim N(a, \sigma_{\text{gene}})
# \end{aligned}
# $$
#
# $y_{sr}$ is guide $s$'s count in replicate $r$, $N_r$ the replicate's
# reads and $p_s/N_p$ the guide's share of the plasmid: the offset is the
# count expected if nothing changed. $\theta_s$ is the guide's log2 fold
# change, $\beta_g$ the gene's at **two copies**, and $f$ the copy-number
# effect shared by every guide, zero at two copies. The extra-Poisson
# variation $1/\sqrt{\alpha}$ (`excess_cv`) has a HalfNormal(0.5) prior,
# $a \sim N(0, 1)$, $\sigma_{\text{gene}} \sim$ HalfNormal(1),
# $\sigma_{\text{guide}} \sim$ HalfNormal(0.5); guides and genes are
# non-centred (the replicates agree poorly, so one guide's fold change is
# weakly identified). Two forms of $f$: **linear**, $\gamma (c - 2)$, and
# **by level**, one free effect per copy number (8 and more pooled).
#
# The likelihood is summed exactly but fast: the negative binomial's
# log-gamma terms depend on the counts only through how often each value
# occurs
# ({py:func}`~crispr_models.screen_model.negative_binomial_log_likelihood`).

# %%
fitted_genes = choose_genes(screen.genes, reference, sample_genes, rng)
sample = screen.restrict_to_genes(fitted_genes)
print(
    f"fitting {fitted_genes.size:,} genes ({len(sample.guides):,} guides, "
    f"{sample.counts().size:,} counts): "
    f"{reference.reindex(fitted_genes).value_counts().to_dict()}"
)
experiment

# %% [markdown]
# The prior predictive check first: fold changes replicated from prior draws
# should cover what a screen can show (a few log2 units each way) without
# being absurd.

# %%
SCALARS = ["intercept", "sigma_gene", "sigma_guide", "excess_cv"]
fits, reports = {}, {}
for form in ("linear", "by_level"):
    model = read_count_model(sample, form, "non_centred")
    idata = sample_posterior(model, rng, experiment.settings)
    extra = ["cn_slope"] if form == "linear" else ["cn_effect"]
    reports[form] = convergence_report(idata, [*SCALARS, *extra, "gene_effect"])
    print(f"{form}: {timing_summary(idata)}")
    fits[form] = (model, idata)
prior = sample_prior_predictive(fits["by_level"][0], rng, draws=predictive_draws)

# %%
for form, report in reports.items():
    print(f"\n{form}:")
    display(report)
for report in reports.values():
    report.require()

# %% [markdown]
# ## Which copy-number effect?
#
# The fitted effect at each copy number, and the grouped posterior
# predictive checks of chapter ppc on the guides' fold changes: the mean and
# sd of each copy-number level, chromosome and gene. A shape of $f$ that
# does not fit puts the copy-number levels in the tails.

# %%
cn_table = pd.concat(
    [copy_number_effect_table(fits[f][1], f) for f in fits], ignore_index=True
)
plotting.plot_copy_number_effects(cn_table, "Copy-number effect on log2 fold change")

# %%
data = guide_check_table(sample)
trees, checks = {}, []
for form, (_, idata) in fits.items():
    replicated = replicate_log_fold_changes(sample, idata.posterior, rng, predictive_draws)
    prior_lfc = replicate_log_fold_changes(sample, prior.prior, rng, predictive_draws)
    trees[form] = predictive_tree(sample, prior_lfc, replicated)
    found = grouped_checks(trees[form], data, by=("copy number", "chromosome", "gene"))
    checks.append(found.assign(fit=form))
checks = pd.concat(checks, ignore_index=True)
save_table(artifacts_dir, "predictive_checks", checks)
display(flag_matrix(checks))

# %%
plotting.plot_predictive_checks(trees["by_level"])

# %% [markdown]
# ## Gene effects against copy number
#
# The naive median and the model's gene effect (posterior mean, at two
# copies) of the fitted genes, by copy number.

# %%
effects = gene_effects(fits["by_level"][1], essential_threshold)
scores = {"naive median": naive.reindex(fitted_genes), "count model": effects["mean"]}
plotting.plot_scores_by_copy_number(
    by_copy_number(sample, scores), "Gene scores by copy number: naive and count model"
)

# %% [markdown]
# ## Against the reference genes
#
# ROC and precision-recall of each score separating the curated essential
# from the non-essential genes (among the fitted genes).

# %%
aucs = pd.DataFrame({m: essentiality_auc(s, reference) for m, s in scores.items()}).T
save_table(artifacts_dir, "essentiality_auc", aucs.reset_index(names="method"))
display(aucs.round(3))
plotting.plot_essentiality_curves(
    essentiality_curves(scores, reference), "Essential against non-essential reference genes"
)

# %% [markdown]
# **Essentiality calls.** A gene is called essential when its posterior
# probability of an effect below `essential_threshold` is at least
# `call_probability`. Among the reference genes, the share called:

# %%
calls = essentiality_calls(effects, reference, call_probability)
naive_fpr = float(naive_calls[reference == "non-essential"].mean())
display(pd.Series(calls).to_frame("count model").T)
save_table(artifacts_dir, "gene_effects", effects.join(naive.rename("naive")).reset_index())

# %% tags=["remove-input"]
glue_values(
    screen_guides=f"{len(screen.guides):,}",
    screen_genes=f"{screen.genes.size:,}",
    screen_fitted_genes=f"{fitted_genes.size:,}",
    screen_naive_high_copy=f"{naive_calls[high_copy].mean():.0%}",
    screen_naive_other=f"{naive_calls[~high_copy].mean():.0%}",
    screen_auc_model=round(float(aucs.loc["count model", "roc_auc"]), 3),
    screen_auc_naive=round(float(aucs.loc["naive median", "roc_auc"]), 3),
    screen_pr_model=round(float(aucs.loc["count model", "pr_auc"]), 3),
    screen_pr_naive=round(float(aucs.loc["naive median", "pr_auc"]), 3),
    screen_fpr=f"{calls['false_positive_rate']:.1%}",
    screen_naive_fpr=f"{naive_fpr:.1%}",
    screen_sensitivity=f"{calls['sensitivity']:.0%}",
    screen_top_effect=round(float(cn_table.iloc[-1]["mean"]), 2),
    screen_excess_cv=round(float(fits["by_level"][1].posterior["excess_cv"].mean()), 2),
    screen_sigma_guide=round(float(fits["by_level"][1].posterior["sigma_guide"].mean()), 2),
)

# %% [markdown]
# ## What we learned
#
# - Of {glue:text}`screen_guides` guides ({glue:text}`screen_genes` genes),
#   the naive median calls {glue:text}`screen_naive_high_copy` of the genes
#   at six or more copies essential against {glue:text}`screen_naive_other`
#   of the others: copy number, not the genes, drives those calls.
# - The count model, fitted to {glue:text}`screen_fitted_genes` genes,
#   attributes {glue:text}`screen_top_effect` log2 units to eight or more
#   copies (against two) and gives each gene its effect at two copies.
# - Against the reference genes the model's gene effects have ROC AUC
#   {glue:text}`screen_auc_model` (naive median {glue:text}`screen_auc_naive`)
#   and average precision {glue:text}`screen_pr_model` (naive
#   {glue:text}`screen_pr_naive`). The reference sets hold few amplified
#   genes, so they measure the ranking of well-behaved genes more than the
#   copy-number correction.
# - Calls at posterior probability `call_probability`: false-positive rate
#   on the non-essential genes {glue:text}`screen_fpr` (naive threshold
#   {glue:text}`screen_naive_fpr`), {glue:text}`screen_sensitivity` of the
#   essential genes called.
# - The replicates agree poorly: the counts' extra-Poisson variation is
#   {glue:text}`screen_excess_cv` (coefficient of variation), larger than the
#   guides' spread around their gene ({glue:text}`screen_sigma_guide` log2
#   units); this is why the guides are non-centred.

# %% [markdown]
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p pymc,nutpie,cy
