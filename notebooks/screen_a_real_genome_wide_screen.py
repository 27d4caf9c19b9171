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
# **How the whole genome is fitted.** NUTS on every gene takes longer than
# this book's budget on two cores (`benchmarks/screen_scaling.py` measures it).
# Given the parameters all genes share, though, the genes are independent and
# each gene's posterior is one-dimensional. So NUTS fits the model to a simple
# random sample of `sample_genes` genes; every gene of the genome is then
# integrated on a grid (checked against NUTS on the sampled genes), and
# every parameter the genes share is fitted again from all of them
# ({py:mod}`crispr_models.screen_genome`). `sample_genes = 0` runs NUTS on
# every gene.
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
import resource
import warnings

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
    compare_approximation,
    copy_number_effect_table,
    effect_summary,
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
)
from crispr_models.screen_genome import (
    genome_wide_fit,
    integrate_gene_effects,
    parameter_table,
    shared_parameter_draws,
)
from crispr_models.screen_model import copy_number_labels, copy_number_level, read_count_model
from crispr_models.workflow import Experiment

# %% tags=["parameters"]
seed = 103  # seeds the gene sample and every sampling step
sample_genes = 500  # genes NUTS fits, a simple random sample (0: every gene)
min_plasmid_reads = 30  # guides with fewer plasmid reads are dropped
essential_threshold = -1.0  # a gene is essential if its effect is below this log2 fold change
call_probability = 0.95  # posterior probability needed to call a gene essential
predictive_draws = 100  # posterior draws replicated for the predictive checks
shared_draws = 10  # draws of the shared parameters the genome-wide fit integrates over
check_draws = 50  # draws of the sample fit the grid is checked with on the sampled genes
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
# $\sigma_{\text{guide}} \sim$ HalfNormal(0.5). Two forms of $f$:
# **linear**, $\gamma (c - 2)$, and **by level**, one free effect per copy
# number (8 and more pooled).
#
# Three choices of computation, none of which changes the posterior (the
# model's docstring gives the measurements behind them):
#
# - each guide's fold change is **integrated out** by Gauss-Hermite
#   quadrature at the mode of its integrand: one guide meets only its three
#   counts, which agree poorly, and 80,000 such weakly identified parameters
#   made NUTS mix slowly;
# - each gene is sampled as its fold change **at its own copy number**, which
#   its counts fix, with $\beta_g$ derived from it;
# - the negative binomial's log-gamma terms are summed over the distinct
#   count values
#   ({py:func}`~crispr_models.screen_model.negative_binomial_log_likelihood`).

# %%
fitted_genes = choose_genes(screen.genes, sample_genes, rng)
sample = screen.restrict_to_genes(fitted_genes)
print(
    f"fitting {fitted_genes.size:,} genes ({len(sample.guides):,} guides, "
    f"{sample.counts().size:,} counts): "
    f"reference genes among them: {reference.reindex(fitted_genes).value_counts().to_dict()}"
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
    model = read_count_model(sample, form)
    idata = sample_posterior(model, rng, experiment.settings)
    extra = ["cn_slope"] if form == "linear" else ["cn_effect"]
    reports[form] = convergence_report(idata, [*SCALARS, *extra, "gene_effect"])
    print(f"{form}: {timing_summary(idata)}")
    fits[form] = (model, idata)
with warnings.catch_warnings():
    # the counts enter through a Potential, so PyMC warns that it draws no
    # counts from the prior; the parameters' prior draws are what is used
    warnings.filterwarnings("ignore", "The effect of Potentials", UserWarning)
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
cn_table = pd.concat([copy_number_effect_table(fits[f][1], f) for f in fits], ignore_index=True)
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
# Read the table for what it flags. The means by copy number are the test
# of $f$'s shape. The spreads (sd) are a test of the noise model: one
# dispersion for all counts, where the replicates' disagreement grows with
# depletion. Where the sds are flagged, the model's uncertainty for single
# genes is to be read with that caution; a dispersion that depends on the
# expected count is the next model to try.

# %% [markdown]
# ## The whole genome
#
# Every gene, on a grid given draws of the parameters the genes share
# ({py:mod}`~crispr_models.screen_genome`). First the grid itself is
# checked: given `check_draws` posterior draws of the by-level fit, on the
# sampled genes it must agree with NUTS's own gene effects (the RMSE of the
# means in posterior sds, the median ratio of sds, and the essentiality
# calls that change; with few draws, the draws' own Monte Carlo error
# shows).
#
# But those parameters are the sample's, and a sample of
# {glue:text}`screen_fitted_genes` genes knows them poorly: it holds only a
# few genes at the rare copy numbers, and its guides pin down
# $\sigma_{\text{guide}}$ only loosely. So every one of them is fitted
# again from every gene
# ({py:func}`~crispr_models.screen_genome.genome_wide_fit`): first
# $\sigma_{\text{guide}}$ and the counts' dispersion, by Newton steps on
# the genome's likelihood with each gene integrated over its grid; then,
# given each of `shared_draws` draws of those, the gene hierarchy (the
# intercept, $\sigma_{\text{gene}}$ and the mean of each copy-number
# level). Both posteriors are approximated as normal at their modes: with
# thousands of genes they nearly are. `benchmarks/screen_scaling.py` checks
# the result against NUTS on every gene (its row `sample+grid`; the row
# `sample+grid, sample parameters` is the grid with the sample's own).

# %%
by_level = fits["by_level"][1]
agreement = compare_approximation(
    gene_effects(by_level, essential_threshold),
    integrate_gene_effects(
        sample, shared_parameter_draws(by_level.posterior, check_draws), essential_threshold
    ),
    call_probability,
)
display(pd.Series(agreement).to_frame("grid against NUTS on the sampled genes").T.round(3))
fit = genome_wide_fit(
    screen, shared_parameter_draws(by_level.posterior, shared_draws), essential_threshold, rng
)
genome = fit.effects
print(
    f"{len(genome):,} genes in {fit.seconds:.0f} s ({fit.guide_fit.evaluations} passes over "
    f"the genome to fit sigma_guide and excess_cv); the largest density left at a grid's "
    f"edge: {genome.attrs['max_edge_density']:.1e} of the mode"
)

# %%
sample_parameters = parameter_table(shared_parameter_draws(by_level.posterior, 1000))
genome_parameters = parameter_table(fit.parameters)
shared = pd.concat(
    {
        f"NUTS, {fitted_genes.size:,} genes": sample_parameters.agg(["mean", "std"]).T,
        f"every gene ({len(genome):,})": genome_parameters.agg(["mean", "std"]).T,
    },
    axis=1,
)
flat = shared.set_axis([f"{fit}: {stat}" for fit, stat in shared.columns], axis=1)
save_table(artifacts_dir, "shared_parameters", flat.reset_index(names="parameter"))
display(shared.round(3))
labels = copy_number_labels()
plotting.plot_copy_number_effects(
    pd.concat(
        [
            cn_table[cn_table["model"] == "by_level"].assign(
                model=f"NUTS, {fitted_genes.size:,} genes"
            ),
            effect_summary(genome_parameters[labels], labels, f"every gene ({len(genome):,})"),
        ]
    ),
    "Copy-number effect: the sample and every gene",
)

# %% [markdown]
# What each fit cost on this machine: compile and fit seconds, gradient
# evaluations per second (the leapfrog steps of the kept draws over the
# seconds of warm-up and draws: a lower bound, warm-up's steps are not
# kept) and the lowest bulk ESS per second of sampling among the gated
# parameters. The benchmark script
# `benchmarks/screen_scaling.py` measures NUTS, ADVI and this grid at 1,000,
# 4,000 and all genes, each with its peak memory.

# %%
costs = pd.DataFrame(
    [
        {
            "method": f"NUTS, {form}",
            "genes": fitted_genes.size,
            "compile_s": idata.posterior.attrs["compile_time"],
            "fit_s": idata.posterior.attrs["sampling_time"],
            "gradients_per_s": int(idata.sample_stats["n_steps"].sum())
            / idata.posterior.attrs["sampling_time"],
            "min_ess_per_s": reports[form].min_ess_bulk / idata.posterior.attrs["sampling_time"],
        }
        for form, (_, idata) in fits.items()
    ]
    + [{"method": "grid and shared parameters", "genes": len(genome), "fit_s": fit.seconds}]
)
costs["seconds"] = costs["compile_s"].fillna(0.0) + costs["fit_s"]
peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
save_table(artifacts_dir, "fit_costs", costs)
display(costs.round(2))
print(f"peak memory of this run: {peak_memory_mb:,.0f} MB")
plotting.plot_fit_costs(costs, "What each fit cost")

# %% [markdown]
# ## Gene effects against copy number
#
# Along the genome, the naive median and the model's gene effect (posterior
# mean at two copies), and both by copy number: the amplified regions no
# longer drop as blocks.

# %%
model_along = gene_place.join(genome["mean"].rename("score")).assign(
    method="count model", copy_number=lambda d: copy_number_level(d["copy_number"])
)
plotting.plot_along_genome(
    pd.concat([along, model_along]).reset_index(), "Gene scores along the genome: before and after"
)

# %%
scores = {"naive median": naive, "count model": genome["mean"]}
plotting.plot_scores_by_copy_number(
    by_copy_number(screen, scores), "Gene scores by copy number: naive and count model"
)

# %% [markdown]
# ## Against the reference genes
#
# ROC and precision-recall of each score separating the curated essential
# from the non-essential genes, over the whole genome.

# %%
aucs = pd.DataFrame({m: essentiality_auc(s, reference) for m, s in scores.items()}).T
save_table(artifacts_dir, "essentiality_auc", aucs.reset_index(names="method"))
display(aucs.round(3))
plotting.plot_essentiality_curves(
    essentiality_curves(scores, reference), "Essential against non-essential reference genes"
)

# %% [markdown]
# **Essentiality calls.** A gene is called essential when its posterior
# probability of an effect below {glue:text}`screen_threshold` is at least
# {glue:text}`screen_call_probability`; the naive call is a median below the threshold.

# %%
calls = essentiality_calls(genome, reference, call_probability)
model_calls = genome["prob_below"] >= call_probability
naive_fpr = float(naive_calls[reference == "non-essential"].mean())
save_table(artifacts_dir, "gene_effects", genome.join(naive.rename("naive")).reset_index())
display(pd.Series(calls).to_frame("count model").T)
print(
    f"model calls: {model_calls.sum():,} genes; {model_calls[high_copy].mean():.1%} of genes "
    f"at 6 or more copies against {model_calls[~high_copy].mean():.1%} of the others"
)

# %% tags=["remove-input"]
glue_values(
    screen_threshold=essential_threshold,
    screen_call_probability=call_probability,
    screen_guides=f"{len(screen.guides):,}",
    screen_genes=f"{screen.genes.size:,}",
    screen_fitted_genes=f"{fitted_genes.size:,}",
    screen_naive_high_copy=f"{naive_calls[high_copy].mean():.1%}",
    screen_naive_other=f"{naive_calls[~high_copy].mean():.1%}",
    screen_model_high_copy=f"{model_calls[high_copy].mean():.1%}",
    screen_model_other=f"{model_calls[~high_copy].mean():.1%}",
    screen_auc_model=round(float(aucs.loc["count model", "roc_auc"]), 3),
    screen_auc_naive=round(float(aucs.loc["naive median", "roc_auc"]), 3),
    screen_pr_model=round(float(aucs.loc["count model", "pr_auc"]), 3),
    screen_pr_naive=round(float(aucs.loc["naive median", "pr_auc"]), 3),
    screen_fpr=f"{calls['false_positive_rate']:.1%}",
    screen_naive_fpr=f"{naive_fpr:.1%}",
    screen_sensitivity=f"{calls['sensitivity']:.0%}",
    screen_top_effect=round(float(genome_parameters[labels[-1]].mean()), 2),
    screen_top_effect_sample=round(float(sample_parameters[labels[-1]].mean()), 2),
    screen_sigma_gene=round(float(genome_parameters["sigma_gene"].mean()), 2),
    screen_sigma_gene_sample=round(float(sample_parameters["sigma_gene"].mean()), 2),
    screen_excess_cv=round(float(genome_parameters["excess_cv"].mean()), 2),
    screen_sigma_guide=round(float(genome_parameters["sigma_guide"].mean()), 3),
    screen_sigma_guide_sample=(
        f"{sample_parameters['sigma_guide'].mean():.3f} "
        f"± {sample_parameters['sigma_guide'].std():.3f}"
    ),
    screen_sigma_guide_sd=round(float(genome_parameters["sigma_guide"].std()), 3),
    screen_grid_seconds=f"{fit.seconds:.0f}",
    screen_grid_rmse=round(agreement["rmse_in_sd"], 2),
    screen_grid_sd_ratio=round(agreement["sd_ratio_median"], 2),
    screen_grid_calls_changed=agreement["calls_changed"],
)

# %% [markdown]
# ## Conclusions
#
# - Of {glue:text}`screen_guides` guides ({glue:text}`screen_genes` genes),
#   the naive median calls {glue:text}`screen_naive_high_copy` of the genes
#   at six or more copies essential against {glue:text}`screen_naive_other`
#   of the others: copy number, not the genes, drives those calls. The count
#   model calls {glue:text}`screen_model_high_copy` and
#   {glue:text}`screen_model_other`.
# - Fitted by NUTS to {glue:text}`screen_fitted_genes` random genes and
#   its shared parameters then to every gene, the model attributes
#   {glue:text}`screen_top_effect` log2 units to eight or more copies
#   against two (the sample alone: {glue:text}`screen_top_effect_sample`)
#   and gives each gene its effect at two copies; the genes' sd
#   $\sigma_{\text{gene}}$ is {glue:text}`screen_sigma_gene` (the sample:
#   {glue:text}`screen_sigma_gene_sample`). The guides' sd around their
#   gene is {glue:text}`screen_sigma_guide` ±
#   {glue:text}`screen_sigma_guide_sd` from every gene, where the sample
#   alone said {glue:text}`screen_sigma_guide_sample`: a sample's guides
#   pin it down poorly.
# - The whole genome took {glue:text}`screen_grid_seconds` s on the grid;
#   given the sample's own parameters it agrees with NUTS on the sampled
#   genes to an RMSE of {glue:text}`screen_grid_rmse` posterior sds, a
#   median sd ratio of {glue:text}`screen_grid_sd_ratio`, and
#   {glue:text}`screen_grid_calls_changed` essentiality calls changed.
# - Against the reference genes the model's gene effects have ROC AUC
#   {glue:text}`screen_auc_model` (naive median {glue:text}`screen_auc_naive`)
#   and average precision {glue:text}`screen_pr_model` (naive
#   {glue:text}`screen_pr_naive`). The reference sets hold few amplified
#   genes, so they measure the ranking of well-behaved genes more than the
#   copy-number correction.
# - Calls at posterior probability {glue:text}`screen_call_probability` of an
#   effect below {glue:text}`screen_threshold`: false-positive rate
#   on the non-essential genes {glue:text}`screen_fpr` (naive threshold
#   {glue:text}`screen_naive_fpr`), {glue:text}`screen_sensitivity` of the
#   essential genes called.
# - The replicates agree poorly: the counts' extra-Poisson variation is
#   {glue:text}`screen_excess_cv` (coefficient of variation), larger than the
#   guides' spread around their gene; this is why the guides are integrated
#   out rather than sampled.

# %% [markdown]
# ## References
#
# The works cited here are listed with the book's others on its
# {doc}`references page </book/references>` (one bibliography for the book:
# a second one on this page would list them twice).

# %% [markdown]
# ## Watermark
#
# The versions of Python and of the packages this page was run with.

# %%
# %load_ext watermark
# %watermark -n -u -v -iv -p pymc,nutpie,cy
