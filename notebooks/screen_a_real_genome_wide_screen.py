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
# effect shared by all guides) with the noise the replicates show, genes
# that can lie far from the rest and one effect per amplicon, checks it
# (held-out replicates among it), and scores it beside the series' model
# and the field's tools (MAGeCK2 and CRISPY) on the same guides and genes.
#
# **How the whole genome is fitted.** NUTS on every gene takes longer than
# this book's budget on two cores (`benchmarks/screen_scaling.py` measures it).
# Given the parameters all genes share, though, the genes are independent and
# each gene's posterior is one-dimensional. So NUTS fits the model to a simple
# random sample of `sample_genes` genes; every gene of the genome is then
# integrated on a grid (checked against NUTS on the sampled genes), and
# every parameter the genes share is fitted again from all of them by a
# normal approximation at its mode, the nested approach of INLA
# {cite:p}`rue2009inla` ({py:mod}`crispr_models.screen.genome`).
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
# `nuts_checks false` leaves out NUTS (the series' model, the grid against
# NUTS on a sample): the genome-wide fit then starts from the middle of the
# priors and the counts' moment estimates.

# %% tags=["hide-cell"]
import resource
import warnings

import numpy as np
import pandas as pd
from IPython.display import display

from crispr_models.checks.diagnostics import convergence_report
from crispr_models.checks.predictive import (
    TAIL,
    extreme_groups_by,
    flag_matrix,
    group_p_values,
    grouped_checks,
)
from crispr_models.core.artifacts import save_table
from crispr_models.core.fitting import (
    compile_seconds,
    sample_posterior,
    sample_prior_predictive,
    sampling_seconds,
    timing_summary,
)
from crispr_models.core.prose import glue_values, model_code, rerun_note
from crispr_models.core.workflow import Experiment
from crispr_models.plots.checks import plot_predictive_checks
from crispr_models.plots.screen import (
    plot_along_genome,
    plot_amplicon_ranks,
    plot_copy_number_effects,
    plot_essentiality_curves,
    plot_fit_costs,
    plot_held_out_coverage,
    plot_replicate_noise,
    plot_scores_by_copy_number,
    plot_separation,
)
from crispr_models.screen.analysis import (
    approximation_error_by_group,
    approximation_groups,
    by_copy_number,
    chain_halves,
    choose_genes,
    effect_summary,
    guide_check_table,
    held_out_coverage,
    mark_not_estimable,
    predictive_tree,
    replicate_log_fold_changes,
    replicate_noise,
)
from crispr_models.screen.data import amplicons, load_reference_set, load_screen_files, ploidy
from crispr_models.screen.genome import (
    genome_wide_fit,
    integrate_gene_effects,
    parameter_table,
    shared_parameter_draws,
    starting_draws,
)
from crispr_models.screen.model import (
    MIN_AMPLICON_GENES,
    NOISE_PARAMETERS,
    copy_number_level,
    read_count_model,
)
from crispr_models.screen.peers import PeerRun, method_costs, naive_median, run_peers
from crispr_models.screen.scoring import (
    amplicon_ranks,
    call_calibration,
    common_genes,
    difference_text,
    essentiality_curves,
    gene_percentiles,
    genes_in_amplicons,
    high_copy_share,
    interval_text,
    reference_labels,
    scorecard,
    separation_by_reference,
)

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
nuts_checks = True  # NUTS on the sample: the series' model beside, the grid checked against it
peers = True  # run MAGeCK2 (RRA, with and without --cnv-norm) and CRISPY on the same guides
bootstrap_draws = 1000  # paired bootstrap resamples of the reference genes for the AUC intervals
predictive_draws = 100  # posterior draws replicated for the predictive checks
grid_draws = 3  # draws of sigma_guide and the noise the genome-wide fit integrates over
hierarchy_draws = 4  # draws of the gene hierarchy for each of them
check_draws = 200  # draws of the sample fit the grid is checked with on the sampled genes
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
# ({py:func}`~crispr_models.screen.analysis.replicate_noise`). Two summaries
# per bin tell two noise models apart: the excess variance **per read**
# is the same in every bin if the variance is proportional to the mean
# (a negative binomial whose dispersion grows with the mean, NB1); the
# excess **coefficient of variation** is the same in every bin for one
# negative-binomial dispersion (NB2), which is what the series' count
# model assumed.

# %%
by_grouping = [replicate_noise(screen, by) for by in ("abundance", "depletion")]
pooled = by_grouping[0].attrs  # over all pairs: the same for either grouping
noise = pd.concat(by_grouping)
save_table(artifacts_dir, "replicate_noise", noise)
display(noise.set_index(["by", "count"]).round(3))
plot_replicate_noise(
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
# are the noisiest. So the count model below takes the variance
# proportional to the mean (NB1); the series' model, one dispersion (NB2),
# is fitted beside it, and held-out replicates measure which predicts
# counts it has not seen.

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
plot_along_genome(along.reset_index(), "Naive gene log2 fold change along the genome")

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
# {py:func}`crispr_models.screen.model.read_count_model`, chosen from what
# the replicates show:
#
# $$
# \begin{aligned}
# y_{sr} &\sim \text{NegBinom}\left(\mu_{sr}, \tfrac{\mu_{sr}}{\phi}\right), \quad
# \log \mu_{sr} = \log\left(N_r \frac{p_s}{N_p}\right) + \ln 2 \; \theta_s \\
# \theta_s &\sim N(\beta_{g[s]} + f(c_s), \sigma_{\text{guide}}), \quad
# \beta_g \sim t_\nu(a, \sigma_{\text{gene}})
# \end{aligned}
# $$
#
# $y_{sr}$ is guide $s$'s count in replicate $r$, $N_r$ the replicate's
# reads and $p_s/N_p$ the guide's share of the plasmid: the offset is the
# count expected if nothing changed. $\theta_s$ is the guide's log2 fold
# change, $\beta_g$ the gene's at **two copies**, and $f$ the copy-number
# effect shared by every guide, zero at two copies, one free value per
# copy number (8 and more pooled). Three choices come from the data:
#
# - **the noise is NB1**: a negative binomial of shape $\mu/\phi$, whose
#   variance $\mu(1 + \phi)$ grows in proportion to the mean, as the
#   replicates' does above; $\phi$ (`excess_per_read`, HalfNormal(100)) is
#   the excess variance per read. The series' model had NB2, one
#   dispersion $\alpha$ for every count (`excess_cv` $= 1/\sqrt{\alpha}$);
# - **genes are Student-t**: most genes do nothing and a few lie far from
#   them; one normal spread for both must either pull the essential genes
#   towards the rest or spread the rest out, and NB1 makes the depleted
#   (low-count, essential) genes' own evidence weaker than NB2 pretended.
#   $\nu$ (`gene_df`) has a Gamma(2, 0.1) prior;
# - **each focal amplicon has its own level** in the genome-wide fit below
#   ({py:func}`~crispr_models.screen.genome.genome_wide_fit`,
#   `split_amplicons`): a run of segments at the top level (8 or more
#   copies, rounded) that holds at least
#   {glue:text}`screen_min_amplicon_genes` genes. Cutting many copies
#   slows the cells by an amount that differs between amplicons (the
#   fitted effects below), which one "8+" level cannot say.
#
# $a \sim N(0, 1)$, $\sigma_{\text{gene}} \sim$ HalfNormal(1),
# $\sigma_{\text{guide}} \sim$ HalfNormal(0.5), each level's effect N(0, 1).
# Three choices of computation, none of which changes the posterior (the
# model's docstring gives the measurements behind them):
#
# - each guide's fold change is **integrated out** by Gauss-Hermite
#   quadrature at the mode of its integrand: one guide meets only its three
#   counts, which agree poorly, and 80,000 such weakly identified parameters
#   made NUTS mix slowly;
# - each gene is sampled as its fold change **at its own copy number**, which
#   its counts fix, with $\beta_g$ derived from it;
# - the copy-number levels are sampled as level means.
#
# With `nuts_checks`, NUTS fits this model and the series' model (NB2) to
# the genes chosen below, both with normal genes: a few hundred genes pin
# a Student-t's scale and tails together too poorly for NUTS to mix (the
# model's code notes what it measured), and every gene, in the genome-wide
# fit, pins them well. Without `nuts_checks`, the genome-wide fit starts
# from the middle of the priors, with the noise and $\sigma_{\text{guide}}$
# at the counts' moment estimates
# ({py:func}`~crispr_models.screen.analysis.moment_estimates`).

# %%
fitted_genes = choose_genes(screen.genes, sample_genes, rng)
sample = screen.restrict_to_genes(fitted_genes)
# the genome-wide fits; NUTS on the sample fits both with normal genes
MODELS = {
    "count model": {"noise": "per_read", "gene_prior": "student_t", "split_amplicons": True},
    "series' model": {"noise": "constant_cv", "gene_prior": "normal", "split_amplicons": False},
}
nuts_models = list(MODELS) if nuts_checks else []
print(
    f"NUTS on {fitted_genes.size:,} genes ({len(sample.guides):,} guides, "
    f"{sample.counts().size:,} counts): {', '.join(nuts_models) or 'none'}; "
    f"reference genes among them: {reference.reindex(fitted_genes).value_counts().to_dict()}"
)
experiment

# %% [markdown]
# The prior predictive check first: fold changes replicated from prior draws
# should cover what a screen can show (a few log2 units each way) without
# being absurd.

# %% tags=["remove-input", "hide-output"]
model_code(read_count_model)

# %%
fits, reports = {}, {}
for name in nuts_models:
    model = read_count_model(sample, "by_level", MODELS[name]["noise"], gene_prior="normal")
    idata = sample_posterior(model, rng, experiment.settings)
    noise_parameter = NOISE_PARAMETERS[MODELS[name]["noise"]]
    gated = ["intercept", "sigma_gene", "sigma_guide", noise_parameter, "cn_effect", "gene_effect"]
    reports[name] = convergence_report(idata, gated)
    print(f"{name}: {timing_summary(idata)}")
    fits[name] = (model, idata)
with warnings.catch_warnings():
    # the counts enter through a Potential, so PyMC warns that it draws no
    # counts from the prior; the parameters' prior draws are what is used
    warnings.filterwarnings("ignore", "The effect of Potentials", UserWarning)
    prior = sample_prior_predictive(
        read_count_model(sample, gene_prior="normal"), rng, draws=predictive_draws
    )

# %%
for name, report in reports.items():
    print(f"\n{name}:")
    display(report)
for report in reports.values():
    report.require()

# %% [markdown]
# ## Which noise model?
#
# The grouped posterior predictive checks of chapter ppc on the guides'
# fold changes, for both NUTS fits: the mean and sd of each copy-number
# level, chromosome and gene. The sds test the noise model: NB2 gives the
# depleted, low-count guides too little noise and the abundant ones too
# much. A third statistic asks why an sd fails: the **trimmed sd** leaves
# out each group's guide furthest from the group's median, in the data and
# in every replicated data set alike. Where the sd of a group is extreme
# and its trimmed sd is not, one guide made it so: a guide that cut
# poorly, or far better than its gene's others, which a normal spread of
# guides around their gene does not expect. The last table splits the
# genes whose sd is extreme under the count model by how depleted they are,
# and by direction: spread more than the model allows ("above") or less
# ("below"). (Without `nuts_checks` there is nothing to compare here; the
# held-out replicates below check the model itself.)

# %%
# genes whose guides' median log2 fold change is above this do nearly nothing
DEPLETED_BELOW = -0.25
data = guide_check_table(sample)
trees, checks = {}, []
prior_lfc = replicate_log_fold_changes(sample, prior.prior, rng, predictive_draws)
for name, (_, idata) in fits.items():
    replicated = replicate_log_fold_changes(sample, idata.posterior, rng, predictive_draws)
    trees[name] = predictive_tree(sample, prior_lfc, replicated)
    found = grouped_checks(
        trees[name],
        data,
        by=("copy number", "chromosome", "gene"),
        statistics=("mean", "sd", "trimmed_sd"),
    )
    checks.append(found.assign(fit=name))
if checks:
    checks = pd.concat(checks, ignore_index=True)
    save_table(artifacts_dir, "predictive_checks", checks)
    display(flag_matrix(checks))
    # the groups (copy-number levels, chromosomes, genes) whose sd is extreme,
    # how many of them spread more than the model allows, and the same trimmed
    spread_rows = checks[checks["check"].str.contains("sd by")].assign(
        statistic=lambda d: d["check"].str.split(" by ").str[0]
    )
    flagged_sd = spread_rows.pivot_table(
        index="fit", columns="statistic", values=["extreme", "above", "groups"], aggfunc="sum"
    )
    display(flagged_sd.swaplevel(axis=1).sort_index(axis=1))
    # the genes whose sd is extreme under the count model, by their depletion
    depletion_bins = [-np.inf, essential_threshold, DEPLETED_BELOW, np.inf]
    gene_depletion = pd.cut(
        data.groupby("gene")["logfc"].median(),
        depletion_bins,
        labels=[
            f"{low} to {high}"
            for low, high in zip(depletion_bins, depletion_bins[1:], strict=False)
        ],
    )
    spread_by_depletion = extreme_groups_by(
        group_p_values(trees["count model"], data, "gene", "sd"), gene_depletion
    )
    display(spread_by_depletion.rename_axis("median guide log2 fold change"))

# %%
if "count model" in trees:
    display(plot_predictive_checks(trees["count model"]))

# %% [markdown]
# ## The whole genome
#
# Every gene, on a grid given draws of the parameters the genes share
# ({py:mod}`~crispr_models.screen.genome`). With `nuts_checks`, the grid is checked first:
# given `check_draws` posterior draws of the count model's NUTS fit, on the
# sampled genes it must agree with NUTS's own gene effects. Against what?
# NUTS itself is a Monte Carlo estimate, so the reference is the first half
# of its chains, and the second half (chains with their own random streams:
# a second NUTS run) is the baseline: an approximation whose errors are
# the size of that run's differences is as good as a rerun of NUTS. The
# errors (the RMSE of the means in posterior sds, the median ratio of sds,
# the largest change in a gene's probability of essentiality, and the
# calls that change) are reported on every gene and by the genes' number
# of guides, whether any of their counts is zero, and their copy number
# ({py:func}`~crispr_models.screen.analysis.approximation_error_by_group`).
# The grid mixes over `check_draws` draws of the shared parameters, and
# with few draws their own Monte Carlo error shows.
#
# But those parameters are the sample's, and a sample of
# {glue:text}`screen_fitted_genes` genes knows them poorly: it holds only a
# few genes at the rare copy numbers, and its guides pin down
# $\sigma_{\text{guide}}$ only loosely. So every one of them is fitted
# again from every gene
# ({py:func}`~crispr_models.screen.genome.genome_wide_fit`): first
# $\sigma_{\text{guide}}$ and the counts' noise, by Newton steps on the
# genome's likelihood with each gene integrated over its grid; then, given
# each of `grid_draws` draws of those (one grid each), the gene hierarchy
# (the intercept, $\sigma_{\text{gene}}$, $\nu$ and the mean of each
# copy-number level and amplicon), `hierarchy_draws` draws of it per grid.
# Both posteriors are approximated as normal at their modes: with
# thousands of genes they nearly are. A grid costs a pass over every guide
# and a hierarchy draw only a sum over the grid, and the guide-level
# parameters, which every guide informs, vary the least: a few grids with
# several hierarchy draws each give the Monte Carlo error of many grids
# with one (the function's documentation gives the measurement). The
# series' model is fitted the same way, without amplicons. A gene at zero
# copies (homozygously deleted) has no DNA for its guides to cut: its
# effect is not estimable, and it is left out of every score below (its
# guides still inform the mean of its copy-number level).
# `benchmarks/screen_scaling.py` checks the grid against NUTS on every
# gene.

# %%
if nuts_checks:
    _, count_idata = fits["count model"]
    first_half, second_half = chain_halves(count_idata, essential_threshold)
    grid_effects = integrate_gene_effects(
        sample, shared_parameter_draws(count_idata.posterior, check_draws), essential_threshold
    )
    approximation = approximation_error_by_group(
        first_half,
        {"grid": grid_effects, "NUTS, other chains": second_half},
        approximation_groups(sample),
        call_probability,
    )
    save_table(artifacts_dir, "approximation_error", approximation)
    by_group = approximation.pivot(
        index=["grouping", "group"],
        columns="against",
        values=["rmse_in_sd", "sd_ratio_median", "max_probability_change", "calls_changed"],
    )
    by_group = by_group.round(3)
    by_group.insert(0, ("genes", ""), approximation.groupby(["grouping", "group"])["genes"].first())
    display(by_group)
# %% [markdown]
# Against the first half of NUTS's chains, the grid's gene means are off
# by {glue:text}`screen_grid_rmse_sd` posterior sds (RMSE), the other half's
# by {glue:text}`screen_nuts_rmse_sd`; a gene's probability of
# essentiality moves by at most {glue:text}`screen_grid_probability_change`
# on the grid and {glue:text}`screen_nuts_probability_change` in the other
# half. Of the {glue:text}`screen_grid_calls_reference` genes the first
# half calls essential (the sample's normal genes pull the essential ones
# in: few pass the call), the grid changes
# {glue:text}`screen_grid_calls_changed` calls and the other half
# {glue:text}`screen_nuts_calls_changed`. The grid's largest error in any
# group is {glue:text}`screen_grid_worst_group`.

# %%
genome_fits = {}
for name in MODELS if nuts_checks else ["count model"]:
    chosen = MODELS[name]
    start = (
        shared_parameter_draws(fits[name][1].posterior, grid_draws)
        if name in fits
        else starting_draws(chosen["noise"], chosen["gene_prior"], screen)
    )
    genome_fits[name] = genome_wide_fit(
        screen,
        start,
        essential_threshold,
        rng,
        split_amplicons=chosen["split_amplicons"],
        num_draws=grid_draws,
        hierarchy_draws=hierarchy_draws,
        gene_prior=chosen["gene_prior"],
    )
fit = genome_fits["count model"]
genome = mark_not_estimable(fit.effects, gene_place["copy_number"])
genomes = {
    n: mark_not_estimable(f.effects, gene_place["copy_number"]) for n, f in genome_fits.items()
}
print(
    f"{len(genome):,} genes in {fit.seconds:.0f} s ({fit.guide_fit.evaluations} passes over "
    f"the genome to fit sigma_guide and excess_per_read); the largest density left at a "
    f"grid's edge: {genome.attrs['max_edge_density']:.1e} of the mode; "
    f"{(~genome['estimable']).sum()} genes at zero copies are not estimable"
)

# %%
genome_parameters = parameter_table(fit.parameters, fit.level_labels)
columns = {f"every gene ({len(genome):,})": genome_parameters.agg(["mean", "std"]).T}
if nuts_checks:
    sample_parameters = parameter_table(
        shared_parameter_draws(fits["count model"][1].posterior, 1000)
    )
    columns = {
        f"NUTS, {fitted_genes.size:,} genes": sample_parameters.agg(["mean", "std"]).T,
        **columns,
    }
shared = pd.concat(columns, axis=1)
flat = shared.set_axis([f"{fit_name}: {stat}" for fit_name, stat in shared.columns], axis=1)
save_table(artifacts_dir, "shared_parameters", flat.reset_index(names="parameter"))
display(shared.round(3))
labels = list(fit.level_labels)
plot_copy_number_effects(
    effect_summary(genome_parameters[labels], labels, f"every gene ({len(genome):,})"),
    "Copy-number effect by level and amplicon, from every gene",
)

# %% [markdown]
# ## Held-out replicates
#
# Does the noise model predict a replicate it has not seen? For each
# replicate and guide, the guide's fold change is inferred from the other
# replicates' counts (with its gene's fit as the prior), and the held-out
# count is compared with its 90 % predictive interval
# ({py:func}`~crispr_models.screen.analysis.held_out_coverage`), in deciles
# of the guides' abundance. A calibrated noise model puts about 90 % of
# the counts inside in every decile.

# %%
coverage = pd.concat(
    [
        held_out_coverage(screen, f.effects, f.parameters[0]).assign(model=name)
        for name, f in genome_fits.items()
    ],
    ignore_index=True,
)
save_table(artifacts_dir, "held_out_coverage", coverage)
display(coverage.pivot(index="abundance", columns="model", values="coverage").round(3))
plot_held_out_coverage(coverage, 0.9, "Held-out replicate counts inside their 90 % interval")

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
            "method": f"NUTS, {name}",
            "genes": fitted_genes.size,
            "compile_s": compile_seconds(idata),
            "fit_s": sampling_seconds(idata),
            "gradients_per_s": int(idata.sample_stats["n_steps"].sum()) / sampling_seconds(idata),
            "min_ess_per_s": reports[name].min_ess_bulk / sampling_seconds(idata),
        }
        for name, (_, idata) in fits.items()
    ]
    + [
        {"method": f"grid and shared parameters, {name}", "genes": len(genome), "fit_s": f.seconds}
        for name, f in genome_fits.items()
    ],
    # every column, NUTS's too when it did not run (nuts_checks off)
    columns=["method", "genes", "compile_s", "fit_s", "gradients_per_s", "min_ess_per_s"],
)
costs["seconds"] = costs["compile_s"].fillna(0.0) + costs["fit_s"]
# the kernel's own peak: the model and everything else this page holds
peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
save_table(artifacts_dir, "fit_costs", costs)
display(costs.round(2))
print(f"peak memory of this run so far: {peak_memory_mb:,.0f} MB")
plot_fit_costs(costs, "What each fit cost")

# %% [markdown]
# ## Gene effects against copy number
#
# Along the genome, the naive median and the model's gene effect (posterior
# mean at two copies), and both by copy number.

# %%
model_along = gene_place.join(genome["mean"].dropna().rename("score"), how="inner").assign(
    method="count model", copy_number=lambda d: copy_number_level(d["copy_number"])
)
plot_along_genome(
    pd.concat([along, model_along]).reset_index(), "Gene scores along the genome: before and after"
)

# %%
model_seconds = costs.loc[costs["method"].str.endswith("count model"), "seconds"].sum()
model = PeerRun("count model", genome["mean"].dropna(), model_seconds, peak_memory_mb)
series = []
if "series' model" in genomes:
    series_seconds = costs.loc[costs["method"].str.endswith("series' model"), "seconds"].sum()
    series_scores = genomes["series' model"]["mean"].dropna()
    series.append(PeerRun("series' model", series_scores, series_seconds, peak_memory_mb))
plot_scores_by_copy_number(
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
# ({py:mod}`~crispr_models.screen.peers`). RRA runs 10 rounds of
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
# essential genes, 0.5 if copy number does not bias the ranking. With
# `nuts_checks`, the series' model (NB2, normal genes, one level for 8 or
# more copies) is scored too: what the noise model, the genes' prior and
# the amplicons bought together.

# %%
runs = [naive, *(run_peers(screen, artifacts_dir) if peers else []), *series, model]
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
plot_separation(separation, "Essential against non-essential genes, by method")

# %%
plot_amplicon_ranks(ranks, "Where each amplicon's passenger genes rank")

# %%
plot_essentiality_curves(
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
calibrations = {n: call_calibration(g, reference, call_probability) for n, g in genomes.items()}
calibration = calibrations["count model"]
model_calls = genome["prob_below"] >= call_probability
save_table(artifacts_dir, "gene_effects", genome.join(naive.scores.rename("naive")).reset_index())
display(pd.DataFrame(calibrations).T.round(3))
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
driver_ranks = gene_percentiles(scores, list(known_drivers)).loc["count model"]
coverage_by = coverage.groupby("model")["coverage"]
amplicon_effects = genome_parameters[[label for label in labels if " " in label]].mean()


def _range_text(values: pd.Series) -> str:
    return f"{values.min():.2f} to {values.max():.2f}" if len(values) else "none"


def _with_nuts(text_of) -> str:
    """What a NUTS fit (of the sample, or the series' model) showed, or why
    there is none."""
    return text_of() if nuts_checks else "not measured (`nuts_checks` off)"


def _spread_text(row: pd.Series) -> str:
    return (
        f"{int(row['above'] + row['below'])} of {int(row['groups'])} "
        f"({int(row['below'])} spread less than the model allows, {int(row['above'])} more)"
    )


def _approximation_text(against: str, column: str, digits: int = 3) -> str:
    row = approximation.set_index(["grouping", "against"]).loc[("all genes", against)]
    return f"{row[column]:.{digits}f}" if digits else f"{int(row[column])}"


def _worst_group_text() -> str:
    grid = approximation[approximation["against"] == "grid"]
    worst = grid.loc[grid["rmse_in_sd"].idxmax()]
    return (
        f"{worst['rmse_in_sd']:.2f} ({worst['grouping']}: {worst['group']}, {worst['genes']} genes)"
    )


def _flagged_sd_text(name: str, statistic: str = "sd") -> str:
    row = flagged_sd.loc[name].xs(statistic, level="statistic")
    return f"{int(row['extreme'])} of {int(row['groups'])}"


def _wider_sd_text(name: str) -> str:
    row = flagged_sd.loc[name].xs("sd", level="statistic")
    return f"{int(row['above'])} of the {int(row['extreme'])}"


expected_false = calibration["expected_false_reference"]
observed_false = calibration["observed_false_reference"]
glue_values(
    screen_threshold=essential_threshold,
    screen_call_probability=call_probability,
    screen_guides=f"{len(screen.guides):,}",
    screen_genes=f"{screen.genes.size:,}",
    screen_fitted_genes=f"{fitted_genes.size:,}",
    screen_min_amplicon_genes=MIN_AMPLICON_GENES,
    screen_noise_vmr_low=f"{noise['variance_to_mean'].min():.0f}",
    screen_noise_vmr_high=f"{noise['variance_to_mean'].max():.0f}",
    screen_noise_vmr=f"{pooled['variance_to_mean']:.0f}",
    screen_noise_vmr_plus_one=f"{pooled['variance_to_mean'] + 1:.0f}",
    screen_noise_cv_low=round(float(noise["excess_cv"].max()), 2),
    screen_noise_cv_high=round(float(noise["excess_cv"].min()), 2),
    screen_coverage_model=_range_text(coverage_by.get_group("count model")),
    screen_coverage_series=_with_nuts(lambda: _range_text(coverage_by.get_group("series' model"))),
    screen_sd_flagged_model=_with_nuts(lambda: _flagged_sd_text("count model")),
    screen_sd_flagged_series=_with_nuts(lambda: _flagged_sd_text("series' model")),
    screen_spread_flat=_with_nuts(lambda: _spread_text(spread_by_depletion.iloc[-1])),
    screen_spread_depleted=_with_nuts(lambda: _spread_text(spread_by_depletion.iloc[:-1].sum())),
    screen_depleted_below=DEPLETED_BELOW,
    screen_chance_extreme=f"{2 * TAIL:.0%}",
    screen_grid_rmse_sd=_with_nuts(lambda: _approximation_text("grid", "rmse_in_sd")),
    screen_nuts_rmse_sd=_with_nuts(lambda: _approximation_text("NUTS, other chains", "rmse_in_sd")),
    screen_grid_probability_change=_with_nuts(
        lambda: _approximation_text("grid", "max_probability_change", 3)
    ),
    screen_nuts_probability_change=_with_nuts(
        lambda: _approximation_text("NUTS, other chains", "max_probability_change", 3)
    ),
    screen_grid_calls_changed=_with_nuts(lambda: _approximation_text("grid", "calls_changed", 0)),
    screen_nuts_calls_changed=_with_nuts(
        lambda: _approximation_text("NUTS, other chains", "calls_changed", 0)
    ),
    screen_grid_calls_reference=_with_nuts(
        lambda: _approximation_text("grid", "calls_reference", 0)
    ),
    screen_grid_worst_group=_with_nuts(_worst_group_text),
    screen_sd_wider_model=_with_nuts(lambda: _wider_sd_text("count model")),
    screen_trimmed_flagged_model=_with_nuts(lambda: _flagged_sd_text("count model", "trimmed_sd")),
    screen_trimmed_flagged_series=_with_nuts(
        lambda: _flagged_sd_text("series' model", "trimmed_sd")
    ),
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
    screen_amplicon_range=_range_text(model_ranks),
    screen_series_amplicons=_with_nuts(
        lambda: _range_text(ranks[ranks["method"] == "series' model"]["median_percentile"])
    ),
    screen_drivers=", ".join(f"{g} {p:.3f}" for g, p in driver_ranks.items()),
    screen_amplicon_effects=_range_text(amplicon_effects),
    screen_top_effect=round(float(genome_parameters["8+"].mean()), 2),
    screen_called=f"{calibration['called']:,}",
    screen_expected_fdr=f"{calibration['expected_fdr']:.1%}",
    screen_expected_false_reference=round(expected_false, 1),
    screen_observed_false_reference=observed_false,
    screen_called_reference=calibration["called_reference"],
    screen_non_essential_share=f"{calibration['non_essential_called_share']:.1%}",
    screen_reference_genes=f"{calibration['reference_genes']:,}",
    screen_reference_uncertain=calibration["reference_uncertain"],
    screen_excess_per_read=round(float(genome_parameters["excess_per_read"].mean()), 1),
    screen_gene_df=round(float(genome_parameters["gene_df"].mean()), 2),
    screen_sigma_gene=round(float(genome_parameters["sigma_gene"].mean()), 3),
    screen_sigma_guide=round(float(genome_parameters["sigma_guide"].mean()), 3),
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
#   as the counts rise. So the count model's noise is NB1, a variance
#   proportional to the mean: $1 + \phi$ times it, with $\phi$ =
#   {glue:text}`screen_excess_per_read` from every gene. Held-out replicate counts fall in their
#   90 % intervals {glue:text}`screen_coverage_model` of the time across the
#   deciles of abundance; under the series' NB2, {glue:text}`screen_coverage_series`.
#   On the NUTS sample, the sd checks find {glue:text}`screen_sd_flagged_model`
#   groups (copy-number levels, chromosomes and genes) extreme for the count
#   model ({glue:text}`screen_sd_wider_model` more spread out than it
#   allows) and {glue:text}`screen_sd_flagged_series` for the series' model.
#   With each group's furthest guide left out (the trimmed sd), the count
#   model has {glue:text}`screen_trimmed_flagged_model` extreme, the series'
#   model {glue:text}`screen_trimmed_flagged_series`: were one outlying
#   guide per gene the misfit, the count model's would fall to what chance
#   allows (about {glue:text}`screen_chance_extreme` of the groups). Among the genes that do nearly nothing (median
#   fold change above {glue:text}`screen_depleted_below`),
#   {glue:text}`screen_spread_flat` have an extreme sd; among the depleted
#   ones, {glue:text}`screen_spread_depleted`. Guides that differ in
#   how well they cut spread a gene's guides in proportion to its effect:
#   less than one $\sigma_{\text{guide}}$ says for the genes that do
#   nothing, more for the depleted ones. An efficacy per guide, as Chronos
#   and MAGeCK's MLE fit, is the model that would take this in; the book
#   has not built it.
# - **Copy number.** The naive median calls {glue:text}`screen_naive_high_copy`
#   of the genes at six or more copies essential against
#   {glue:text}`screen_naive_other` of the others; the count model calls
#   {glue:text}`screen_model_high_copy` and {glue:text}`screen_model_other`.
#   Among the 5 % most depleted genes, the genes at six or more copies take
#   {glue:text}`screen_top5_naive` of their places under the naive median,
#   {glue:text}`screen_top5_model` under the model (5 % without bias). The
#   amplicons' effects range from {glue:text}`screen_amplicon_effects` log2
#   units (the pooled 8+ level: {glue:text}`screen_top_effect`); with one
#   level each, the passengers of {glue:text}`screen_amplicons_inside` of
#   the {glue:text}`screen_amplicons` scored amplicons rank in the middle
#   half (medians {glue:text}`screen_amplicon_range`; the series' model:
#   {glue:text}`screen_series_amplicons`), while the known drivers rank at
#   {glue:text}`screen_drivers` (depletion percentiles).
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
#   between 5 % and 95 %: counts this small say that the calls are not
#   grossly over-confident, but cannot measure a factor of 1.5 either way
#   (a Poisson count with the expected mean would spread by about its
#   square root).
# - **The fit.** The genes' spread is a Student-t with
#   {glue:text}`screen_gene_df` degrees of freedom and scale
#   {glue:text}`screen_sigma_gene`: most genes do nearly nothing, and the
#   essential ones lie in its heavy tail. The guides' sd around their gene
#   is {glue:text}`screen_sigma_guide`. The whole genome took
#   {glue:text}`screen_grid_seconds` s on the grid, the count model
#   {glue:text}`screen_model_seconds` s in all (with `nuts_checks`, NUTS on
#   the sample too, compile included).

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
