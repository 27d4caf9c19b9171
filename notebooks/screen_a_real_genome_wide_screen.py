# %% [markdown]
# # A real genome-wide screen: read counts, copy number and known essential genes
#
# Every other chapter fits simulated data. This one fits a real screen: the
# breast cancer cell line AU565 from Sanger's Project Score
# {cite:p}`behan2019prioritization`, read counts of the 90,706 sgRNAs of the
# Yusa v1.1 library in three replicates and the plasmid they were grown
# from, with AU565's copy-number segments and the curated BAGEL reference
# sets of essential and non-essential genes {cite:p}`hart2017evaluation`, as
# CRISPY ships them {cite:p}`goncalves2019structural`. It looks at the
# noise between replicates, shows how amplified regions make naive fold
# changes call genes essential, fits the series' final kind of model (a
# negative binomial of read counts, sgRNAs nested in genes, a copy-number
# effect shared by all guides), checks it, and scores it beside the field's
# tools (MAGeCK2 and CRISPY) on the same guides and genes.
#
# **How the whole genome is fitted.** NUTS on every gene takes longer than
# this book's budget on two cores (`benchmarks/screen_scaling.py` measures it).
# Given the parameters all genes share, though, the genes are independent and
# each gene's posterior is one-dimensional. So NUTS fits the model to a simple
# random sample of `sample_genes` genes; every gene of the genome is then
# integrated on a grid (checked against NUTS on the sampled genes), and
# every parameter the genes share is fitted again from all of them by a
# normal approximation at its mode, the nested approach of INLA
# {cite:p}`rue2009inla` ({py:mod}`crispr_models.screen_genome`).
# `sample_genes = 0` runs NUTS on every gene.
#
# **Your own screen** is this chapter rerun with its files as parameters:
# a counts CSV (first column the guide id, one column per sample, one of
# them the plasmid), a library CSV (`sgRNA_ID`, `Gene`, `chr`, `start`,
# `end`) and, optionally, copy-number segments (`Chr`, `Start`, `End`,
# `copy_number`) and reference gene sets (a CSV with a `gene` column each):
#
# ```bash
# crispr-models run screen -p counts_file counts.csv -p plasmid pDNA \
#     -p library_file library.csv -p segments_file segments.csv -p nuts_checks false
# ```
#
# Bad files are refused, naming the file and what is wrong, before any fit;
# `nuts_checks false` leaves out the NUTS comparisons this page makes
# (the linear copy-number effect, the grid against NUTS on the sample).

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
    gene_effects,
    guide_check_table,
    mark_not_estimable,
    predictive_tree,
    replicate_log_fold_changes,
    replicate_noise,
)
from crispr_models.screen_data import load_reference_set, load_screen_files, ploidy
from crispr_models.screen_genome import (
    genome_wide_fit,
    integrate_gene_effects,
    parameter_table,
    shared_parameter_draws,
)
from crispr_models.screen_model import copy_number_labels, copy_number_level, read_count_model
from crispr_models.screen_peers import PeerRun, method_costs, naive_median, run_peers
from crispr_models.screen_scoring import (
    amplicon_ranks,
    amplicons,
    call_calibration,
    common_genes,
    difference_text,
    essentiality_curves,
    genes_in_amplicons,
    high_copy_share,
    interval_text,
    reference_labels,
    scorecard,
    separation_by_reference,
)
from crispr_models.workflow import Experiment

# %% tags=["parameters"]
seed = 103  # seeds the gene sample, every sampling step and the bootstrap
counts_file = ""  # counts CSV: guide id, then one column per sample ("": CRISPY's AU565 example)
plasmid = ""  # the counts file's plasmid column ("" for the example)
library_file = ""  # library CSV: sgRNA_ID, Gene, chr, start, end ("" for the example)
segments_file = (
    ""  # copy-number segments CSV: Chr, Start, End, copy_number ("": none, or the example's)
)
essential_file = ""  # reference essential genes, a CSV with a 'gene' column ("": BAGEL's)
non_essential_file = ""  # reference non-essential genes, the same ("": BAGEL's)
known_drivers = (
    "ERBB2",
    "MYC",
)  # amplified genes the line depends on, ranked apart from the passengers
sample_genes = 300  # genes NUTS fits, a simple random sample (0: every gene)
min_plasmid_reads = 30  # guides with fewer plasmid reads are dropped
essential_threshold = -1.0  # a gene is essential if its effect is below this log2 fold change
call_probability = 0.95  # posterior probability needed to call a gene essential
nuts_checks = True  # also fit the linear copy-number effect, and check the grid against NUTS
peers = True  # run MAGeCK2 (RRA, with and without --cnv-norm) and CRISPY on the same guides
bootstrap_draws = 1000  # paired bootstrap resamples of the reference genes for the AUC intervals
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
# their cut site. Two reference sets score the methods below: BAGEL's
# curated essential and non-essential genes, and DepMap's common essential
# genes {cite:p}`dempster2021chronos` (the Avana 18Q4 list `cy` ships)
# against the BAGEL non-essential genes outside it, a set drawn from other
# screens than BAGEL's.

# %%
rng = np.random.default_rng(seed)
experiment = Experiment.from_parameters("screen", rng, globals())
screen = load_screen_files(counts_file, plasmid, library_file, segments_file, min_plasmid_reads)
essential = load_reference_set(essential_file, "essential")
non_essential = load_reference_set(non_essential_file, "non_essential")
depmap_essential = load_reference_set("", "depmap_essential")
references = {
    "BAGEL": reference_labels(screen.genes, essential, non_essential),
    "DepMap": reference_labels(screen.genes, depmap_essential, non_essential - depmap_essential),
}
reference = references["BAGEL"]
print(
    f"{len(screen.guides):,} guides of {screen.genes.size:,} genes in "
    f"{len(screen.replicates)} replicates; dropped: {screen.dropped}"
)
display(pd.DataFrame({name: labels.value_counts() for name, labels in references.items()}))
display(screen.guides.head())

# %% [markdown]
# ## The noise between replicates
#
# Before any model: how much do the replicates disagree, and how does that
# depend on a guide's abundance and depletion? For each guide, two
# replicates give an unbiased estimate of the variance of its count and of
# the Poisson part of it, and the third places the pair in a bin of
# abundance or depletion, independently of the noise measured
# ({py:func}`~crispr_models.screen_analysis.replicate_noise`). Two summaries
# per bin tell two noise models apart: the excess variance **per read**
# is the same in every bin if the variance is proportional to the mean
# (a negative binomial whose dispersion grows with the mean, NB1); the
# excess **coefficient of variation** is the same in every bin for one
# negative-binomial dispersion (NB2), which is what the count model below
# assumes.

# %%
by_grouping = [replicate_noise(screen, by) for by in ("abundance", "depletion")]
pooled = by_grouping[0].attrs  # over all pairs: the same for either grouping
noise = pd.concat(by_grouping)
save_table(artifacts_dir, "replicate_noise", noise)
display(noise.set_index(["by", "count"]).round(3))
plotting.plot_replicate_noise(
    noise, pooled["excess_cv"], "The variance between replicates grows with the mean"
)

# %% [markdown]
# Across the bins of abundance and of depletion, the excess variance per
# read stays between {glue:text}`screen_noise_vmr_low` and
# {glue:text}`screen_noise_vmr_high` (over all pairs:
# {glue:text}`screen_noise_vmr`), while the coefficient of variation falls
# from {glue:text}`screen_noise_cv_low` to {glue:text}`screen_noise_cv_high`
# as the counts rise: the variance is about
# {glue:text}`screen_noise_vmr_plus_one` times the Poisson's at every count,
# not a constant coefficient of variation. One dispersion fitted to every
# pair (the dashed line) is too small for the depleted, low-count guides and
# too large for the abundant ones, and depleted guides, being low counts,
# are the noisiest. The count model below keeps one dispersion; its grouped
# predictive checks and the calibration of its calls measure what that
# costs.

# %% [markdown]
# ## The naive analysis and copy number
#
# Each guide's log2 fold change against the plasmid (reads per million,
# pseudocount 0.5, mean of the replicates), and each gene's median over its
# guides. Along the chromosomes, coloured by copy number: cutting DNA that
# is present in many copies slows the cells whatever the gene does
# {cite:p}`aguirre2016genomic`, so amplified regions look depleted.

# %%
naive = naive_median(screen)
gene_place = screen.gene_places()
along = gene_place.join(naive.scores.rename("score")).assign(
    method="naive median", copy_number=lambda d: copy_number_level(d["copy_number"])
)
plotting.plot_along_genome(along.reset_index(), "Naive gene log2 fold change along the genome")

# %% [markdown]
# By copy number, the median naive score of the genes at each level, and
# the genes that a threshold at `essential_threshold` calls essential:

# %%
naive_by_cn = by_copy_number(screen, {"naive median": naive.scores})
naive_medians = naive_by_cn.groupby("copy_number")["score"].median()
display(naive_medians.rename("median naive log2 fold change").to_frame().T.round(2))
naive_calls = naive.scores < essential_threshold
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
forms = ("linear", "by_level") if nuts_checks else ("by_level",)
print(
    f"fitting {fitted_genes.size:,} genes ({len(sample.guides):,} guides, "
    f"{sample.counts().size:,} counts) with the copy-number effect {' and '.join(forms)}: "
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
for form in forms:
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
# dispersion for all counts, where the replicates' disagreement grows as
# the counts fall (the noise section above). Where the sds are flagged, the
# model's uncertainty for single genes is to be read with that caution.

# %% [markdown]
# ## The whole genome
#
# Every gene, on a grid given draws of the parameters the genes share
# ({py:mod}`~crispr_models.screen_genome`). With `nuts_checks`, the grid is
# checked first: given `check_draws` posterior draws of the by-level fit, on
# the sampled genes it must agree with NUTS's own gene effects (the RMSE of
# the means in posterior sds, the median ratio of sds, and the essentiality
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
# thousands of genes they nearly are. A gene at zero copies (homozygously
# deleted) has no DNA for its guides to cut: its effect is not estimable,
# and it is left out of every score below (its guides still inform the
# mean of its copy-number level). `benchmarks/screen_scaling.py` checks
# the result against NUTS on every gene (its row `sample+grid`; the row
# `sample+grid, sample parameters` is the grid with the sample's own).

# %%
by_level = fits["by_level"][1]
if nuts_checks:
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
genome = mark_not_estimable(fit.effects, gene_place["copy_number"])
print(
    f"{len(genome):,} genes in {fit.seconds:.0f} s ({fit.guide_fit.evaluations} passes over "
    f"the genome to fit sigma_guide and excess_cv); the largest density left at a grid's "
    f"edge: {genome.attrs['max_edge_density']:.1e} of the mode; "
    f"{(~genome['estimable']).sum()} genes at zero copies are not estimable"
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
# the kernel's own peak: the model and everything else this page holds
peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
save_table(artifacts_dir, "fit_costs", costs)
display(costs.round(2))
print(f"peak memory of this run so far: {peak_memory_mb:,.0f} MB")
plotting.plot_fit_costs(costs, "What each fit cost")

# %% [markdown]
# ## Gene effects against copy number
#
# Along the genome, the naive median and the model's gene effect (posterior
# mean at two copies), and both by copy number.

# %%
model_along = gene_place.join(genome["mean"].dropna().rename("score"), how="inner").assign(
    method="count model", copy_number=lambda d: copy_number_level(d["copy_number"])
)
plotting.plot_along_genome(
    pd.concat([along, model_along]).reset_index(), "Gene scores along the genome: before and after"
)

# %%
model_seconds = costs.loc[costs["method"] == "NUTS, by_level", "seconds"].sum() + fit.seconds
model = PeerRun("count model", genome["mean"].dropna(), model_seconds, peak_memory_mb)
plotting.plot_scores_by_copy_number(
    by_copy_number(screen, {r.method: r.scores for r in (naive, model)}),
    "Gene scores by copy number: naive and count model",
)

# %% [markdown]
# ## Beside the field's tools
#
# The same filtered guides go to MAGeCK2's robust rank aggregation
# {cite:p}`li2014mageck`, without and with its copy-number normalisation
# (`--cnv-norm`, given each gene's copy number relative to the line's
# ploidy, {glue:text}`screen_ploidy` copies averaged over the segments'
# lengths), and to CRISPY's Gaussian-process correction of the fold changes
# {cite:p}`goncalves2019structural`, each in its own process
# ({py:mod}`~crispr_models.screen_peers`). RRA runs 10 rounds of
# permutation instead of its default 100: its scores, which are ranked here,
# do not depend on them, only its p-values, which are not used
# (`make peers` runs the defaults, and MAGeCK2's MLE and Chronos, too slow
# for this page). No method here uses the
# reference genes, so none is tuned on the genes it is scored on. Every
# score is compared on the genes all methods score: ROC and PR AUC with
# 95 % intervals from a paired bootstrap of the reference genes (the
# difference to the count model has its own interval), the recall of the
# BAGEL essential genes at the threshold that calls 5 % of the
# non-essential ones (one operating point for every method), the share of
# genes at six or more copies among the 5 % most depleted genes (5 % if
# copy number does not bias the ranking), and, for each focal amplicon
# (8 or more copies), where its passenger genes rank: the median depletion
# percentile of its genes other than `known_drivers` and the reference
# essential genes, 0.5 if copy number does not bias the ranking.

# %%
runs = [naive, *(run_peers(screen, artifacts_dir) if peers else []), model]
scores = {r.method: r.scores for r in runs}
separation = separation_by_reference(
    scores, references, rng, num_bootstrap=bootstrap_draws, against="count model"
)
save_table(artifacts_dir, "separation", separation)
members = genes_in_amplicons(gene_place, amplicons(screen.segments))
ranks = amplicon_ranks(scores, members, essential | depmap_essential | set(known_drivers))
save_table(artifacts_dir, "amplicon_ranks", ranks)
card = scorecard(scores, separation, reference, gene_place["copy_number"], ranks, known_drivers)
card = card.join(method_costs(runs))
save_table(artifacts_dir, "methods", card.reset_index())
display(card.round({"seconds": 1, "peak_mb": 0}))

# %%
plotting.plot_separation(separation, "Essential against non-essential genes, by method")

# %%
plotting.plot_amplicon_ranks(ranks, "Where each amplicon's passenger genes rank")

# %%
plotting.plot_essentiality_curves(
    essentiality_curves(scores, reference), "BAGEL essential against non-essential genes"
)

# %% [markdown]
# ## Essentiality calls and their calibration
#
# A gene is called essential when its posterior probability of an effect
# below {glue:text}`screen_threshold` is at least
# {glue:text}`screen_call_probability`. If those probabilities are
# calibrated, the called genes hold about $\sum (1 - P)$ false discoveries,
# and the non-essential reference genes, whose effects lie near zero,
# are almost never called. Among the called genes in the reference sets,
# the non-essential ones are false discoveries for sure; an essential gene
# can also lie above the threshold, so they are a lower bound on the false
# discoveries.

# %%
calibration = call_calibration(genome, reference, call_probability)
model_calls = genome["prob_below"] >= call_probability
save_table(artifacts_dir, "gene_effects", genome.join(naive.scores.rename("naive")).reset_index())
display(pd.Series(calibration).to_frame("count model").T.round(3))
print(
    f"model calls: {model_calls.sum():,} genes; {model_calls[high_copy].mean():.1%} of genes "
    f"at 6 or more copies against {model_calls[~high_copy].mean():.1%} of the others"
)

# %% tags=["remove-input"]
separation_model = separation[separation["method"] == "count model"].set_index(
    ["reference", "metric"]
)
others = separation[separation["method"] != "count model"]
best_other = others.loc[others.groupby(["reference", "metric"])["estimate"].idxmax()].set_index(
    ["reference", "metric"]
)


model_ranks = ranks[ranks["method"] == "count model"]["median_percentile"]
glue_values(
    screen_threshold=essential_threshold,
    screen_call_probability=call_probability,
    screen_guides=f"{len(screen.guides):,}",
    screen_genes=f"{screen.genes.size:,}",
    screen_fitted_genes=f"{fitted_genes.size:,}",
    screen_noise_vmr_low=f"{noise['variance_to_mean'].min():.0f}",
    screen_noise_vmr_high=f"{noise['variance_to_mean'].max():.0f}",
    screen_noise_vmr=f"{pooled['variance_to_mean']:.0f}",
    screen_noise_vmr_plus_one=f"{pooled['variance_to_mean'] + 1:.0f}",
    screen_noise_cv_low=round(float(noise["excess_cv"].max()), 2),
    screen_noise_cv_high=round(float(noise["excess_cv"].min()), 2),
    screen_naive_high_copy=f"{naive_calls[high_copy].mean():.1%}",
    screen_naive_other=f"{naive_calls[~high_copy].mean():.1%}",
    screen_model_high_copy=f"{model_calls[high_copy].mean():.1%}",
    screen_model_other=f"{model_calls[~high_copy].mean():.1%}",
    screen_top5_naive=f"{high_copy_share(naive.scores, gene_place['copy_number']):.1%}",
    screen_top5_model=f"{high_copy_share(model.scores, gene_place['copy_number']):.1%}",
    screen_methods=len(runs),
    screen_compared_genes=f"{len(common_genes(scores)):,}",
    screen_auc_model=interval_text(separation_model.loc[("BAGEL", "roc_auc")]),
    screen_pr_model=interval_text(separation_model.loc[("BAGEL", "pr_auc")]),
    screen_auc_model_depmap=interval_text(separation_model.loc[("DepMap", "roc_auc")]),
    screen_pr_model_depmap=interval_text(separation_model.loc[("DepMap", "pr_auc")]),
    screen_best_roc=best_other.loc[("BAGEL", "roc_auc"), "method"],
    screen_best_roc_difference=difference_text(best_other.loc[("BAGEL", "roc_auc")]),
    screen_best_pr=best_other.loc[("BAGEL", "pr_auc"), "method"],
    screen_best_pr_difference=difference_text(best_other.loc[("BAGEL", "pr_auc")]),
    screen_amplicons=len(model_ranks),
    screen_amplicons_inside=int(model_ranks.between(0.25, 0.75).sum()),
    screen_amplicon_lowest=round(float(model_ranks.min()), 2) if len(model_ranks) else "none",
    screen_amplicon_highest=round(float(model_ranks.max()), 2) if len(model_ranks) else "none",
    screen_called=f"{calibration['called']:,}",
    screen_expected_fdr=f"{calibration['expected_fdr']:.1%}",
    screen_expected_false_reference=round(calibration["expected_false_reference"], 1),
    screen_observed_false_reference=calibration["observed_false_reference"],
    screen_called_reference=calibration["called_reference"],
    screen_non_essential_share=f"{calibration['non_essential_called_share']:.1%}",
    screen_reference_genes=f"{calibration['reference_genes']:,}",
    screen_reference_uncertain=calibration["reference_uncertain"],
    screen_top_effect=round(float(genome_parameters[labels[-1]].mean()), 2),
    screen_top_effect_sample=round(float(sample_parameters[labels[-1]].mean()), 2),
    screen_sigma_gene=round(float(genome_parameters["sigma_gene"].mean()), 2),
    screen_sigma_gene_sample=round(float(sample_parameters["sigma_gene"].mean()), 2),
    screen_excess_cv=round(float(genome_parameters["excess_cv"].mean()), 3),
    screen_sigma_guide=round(float(genome_parameters["sigma_guide"].mean()), 3),
    screen_sigma_guide_sample=(
        f"{sample_parameters['sigma_guide'].mean():.3f} "
        f"± {sample_parameters['sigma_guide'].std():.3f}"
    ),
    screen_sigma_guide_sd=round(float(genome_parameters["sigma_guide"].std()), 3),
    screen_grid_seconds=f"{fit.seconds:.0f}",
    screen_model_seconds=f"{model_seconds:.0f}",
    screen_ploidy=round(ploidy(screen.segments), 2) if screen.segments is not None else "unknown",
)

# %% [markdown]
# ## Conclusions
#
# - **The noise.** Between replicates, the counts' variance is about
#   {glue:text}`screen_noise_vmr_plus_one` times the mean at every abundance
#   and depletion; their coefficient of variation beyond Poisson's falls
#   from {glue:text}`screen_noise_cv_low` to {glue:text}`screen_noise_cv_high`
#   as the counts rise. The count model's one dispersion ($1/\sqrt{\alpha}$
#   = {glue:text}`screen_excess_cv` from every gene) is too small for the
#   depleted, low-count guides and too large for the abundant ones, which
#   is what the flagged sd checks say; a dispersion that grows with the
#   mean is the next model.
# - **Copy number.** The naive median calls {glue:text}`screen_naive_high_copy`
#   of the genes at six or more copies essential against
#   {glue:text}`screen_naive_other` of the others; the count model calls
#   {glue:text}`screen_model_high_copy` and {glue:text}`screen_model_other`.
#   Among the 5 % most depleted genes, the genes at six or more copies take
#   {glue:text}`screen_top5_naive` of their places under the naive median,
#   {glue:text}`screen_top5_model` under the model (5 % without bias). Per
#   amplicon the model is less even: the passengers of
#   {glue:text}`screen_amplicons_inside` of its {glue:text}`screen_amplicons`
#   focal amplicons rank in the middle half, their medians range from
#   {glue:text}`screen_amplicon_lowest` to {glue:text}`screen_amplicon_highest`:
#   one effect per copy-number level cannot tell one amplicon from another.
# - **Against the reference genes** (the {glue:text}`screen_compared_genes`
#   genes every one of the {glue:text}`screen_methods` methods scores), the
#   model's gene effects have ROC AUC {glue:text}`screen_auc_model` and PR AUC
#   {glue:text}`screen_pr_model` on the BAGEL sets, and
#   {glue:text}`screen_auc_model_depmap` and {glue:text}`screen_pr_model_depmap`
#   on DepMap's common essential genes (95 % bootstrap intervals). The best
#   other method by ROC AUC, {glue:text}`screen_best_roc`, differs from the
#   model by {glue:text}`screen_best_roc_difference`, and by PR AUC,
#   {glue:text}`screen_best_pr`, by {glue:text}`screen_best_pr_difference`
#   (paired intervals: one that holds 0 is no difference these genes can
#   tell).
# - **Calls.** {glue:text}`screen_called` genes are called; their expected
#   false-discovery rate, the mean of $1 - P$, is
#   {glue:text}`screen_expected_fdr`. Among the
#   {glue:text}`screen_called_reference` called reference genes the model
#   expects {glue:text}`screen_expected_false_reference` false discoveries
#   and {glue:text}`screen_observed_false_reference` are non-essential genes;
#   {glue:text}`screen_non_essential_share` of the non-essential genes are
#   called. Only {glue:text}`screen_reference_uncertain` of the
#   {glue:text}`screen_reference_genes` reference genes have a probability
#   between 5 % and 95 %, so these numbers cannot tell a calibrated
#   posterior from an over-confident one near the threshold; the noise
#   above says the depleted genes' posteriors are too narrow.
# - **The fit.** Fitted by NUTS to {glue:text}`screen_fitted_genes` random
#   genes and its shared parameters then to every gene, the model attributes
#   {glue:text}`screen_top_effect` log2 units to eight or more copies against
#   two (the sample alone: {glue:text}`screen_top_effect_sample`); the genes'
#   sd $\sigma_{\text{gene}}$ is {glue:text}`screen_sigma_gene` (the sample:
#   {glue:text}`screen_sigma_gene_sample`), the guides' sd around their gene
#   {glue:text}`screen_sigma_guide` ± {glue:text}`screen_sigma_guide_sd`
#   from every gene, where the sample alone said
#   {glue:text}`screen_sigma_guide_sample`. The whole genome took
#   {glue:text}`screen_grid_seconds` s on the grid, the model
#   {glue:text}`screen_model_seconds` s in all (NUTS on the sample, compile
#   included, and the grid).

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
# %watermark -n -u -v -iv -p pymc,nutpie,cy,mageck2
