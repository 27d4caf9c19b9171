"""Each notebook end to end with the quick profile, through ``crispr-models run``."""

import arviz as az
import nbformat
import numpy as np
import pandas as pd
import pytest
from test_chapter_structure import undefined_glue

from conftest import REPO_ROOT, copy_project, quick_override, run_cli
from crispr_book.discovery import PROFILES, discover_notebooks
from crispr_book.runner import cells_with_errors
from crispr_models.checks.calibration import CONTROLS
from crispr_models.checks.diagnostics import SUMMARY_COLUMNS
from crispr_models.core.registry import CHAPTERS, LOO_CHAPTERS
from crispr_models.series.simulation import simulate_sgrna_copy_number

pytestmark = pytest.mark.notebook
QUICK = PROFILES["quick"]
#: Some parameters of each chapter's recommended fit (its name is in the registry).
PARAMETERS = {
    "m1": ["alpha", "beta", "sigma"],
    "m2": ["mu_alpha", "sigma_alpha", "alpha[gene_A]", "beta[gene_E]"],
    "m3": ["mu_gamma", "delta", "alpha[gene_A]", "beta[gene_J]"],
    "m4": ["mu_alpha", "gamma[cell_01]", "beta[gene_E]", "sigma"],
    "m5": ["mu_gamma", "alpha[sgRNA_01]", "beta[cell_20]"],
    "m6": ["mu_gamma", "gamma[gene_C]", "beta[sgRNA_15]", "sigma"],
    "m6global": ["alpha_global", "gamma[gene_A]"],
    "m6corr": ["rho", "sigma_alpha", "sigma_beta", "beta[sgRNA_50]"],
    "m7": ["mu_gamma", "alpha[sgRNA_55]", "beta[cell_20]", "sigma"],
}
EXPECTED = {chapter: (CHAPTERS[chapter].fit_name, names) for chapter, names in PARAMETERS.items()}
NOTEBOOKS = [n.id for n in discover_notebooks(REPO_ROOT)]


#: Chapters that measure or gather instead of fitting one recommended model.
VALIDATION = {c.id for c in CHAPTERS.values() if c.fit_name is None}


def test_every_notebook_is_run_and_every_chapter_is_checked():
    assert set(NOTEBOOKS) == set(EXPECTED) | VALIDATION


@pytest.mark.parametrize("notebook_id", NOTEBOOKS)
def test_run_succeeds_and_writes_the_executed_notebook(quick_project, notebook_id):
    root, runs = quick_project
    result = runs[notebook_id]
    assert result.returncode == 0, result.stderr[-3000:]
    executed = root / "book" / "generated" / f"{notebook_id}.ipynb"
    assert f"{notebook_id}: executed in" in result.stdout
    assert executed.exists()
    assert cells_with_errors(executed) == []


@pytest.mark.parametrize("notebook_id", EXPECTED)
def test_artifacts_hold_the_fit_and_its_convergence_fields(quick_project, notebook_id):
    root, _ = quick_project
    model_name, parameters = EXPECTED[notebook_id]
    artifacts = root / "book" / "generated" / notebook_id
    idata = az.from_netcdf(artifacts / f"{model_name}.nc")
    chains = int(quick_override(notebook_id, "chains", QUICK["chains"]))
    assert idata.posterior.sizes["chain"] == chains
    assert idata.posterior.sizes["draw"] == QUICK["draws"]
    for group in ("prior", "prior_predictive", "posterior_predictive", "sample_stats"):
        assert group in idata.children
    assert idata.posterior.attrs["sampling_time"] > 0

    summary = pd.read_csv(artifacts / "summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    recommended = summary[summary["fit"] == model_name]
    assert set(parameters) <= set(recommended["parameter"])
    assert (recommended["status"] == "use").all()
    assert recommended["true_value"].notna().all()
    # The notebook's own convergence check (report.require()) let these through.
    assert (recommended["r_hat"] <= 1.01).all()
    assert (recommended["ess_bulk"] >= 100 * chains).all()
    assert int(idata.sample_stats["diverging"].sum()) == 0
    # The chapter's other fits are variants to learn from, never to use.
    assert (summary.loc[summary["fit"] != model_name, "status"] != "use").all()


#: The variants each chapter fits besides its recommended model, saved too.
VARIANTS = {
    "m3": {"misplaced_predictor", "replicated_intercepts"},
    "m4": {"free_cell_lines", "zero_sum_halfnormal_scales"},
    "m5": {"free_cell_lines"},
    "m6": {"as_published", "raw_copy_number"},
    "m6global": {"redundant_global_intercept"},
    "m7": {"gene_by_cell_line_7a", "sgrna_by_cell_line_7b", "additive_7c"},
}


@pytest.mark.parametrize("notebook_id", [*EXPECTED, "m6param"])
def test_every_fitted_model_is_saved_and_summarised(quick_project, notebook_id):
    root, _ = quick_project
    artifacts = root / "book" / "generated" / notebook_id
    saved = {path.stem for path in artifacts.glob("*.nc")}
    summarised = set(pd.read_csv(artifacts / "summary.csv")["fit"])
    assert saved == summarised
    if notebook_id == "m6param":
        assert len(saved) == 6  # three data sets, two parameterisations
    else:
        assert saved == {EXPECTED[notebook_id][0], *VARIANTS.get(notebook_id, set())}
    for name in saved:
        fit = az.from_netcdf(artifacts / f"{name}.nc")
        assert "posterior" in fit.children and "sample_stats" in fit.children


def test_parameterization_comparison_has_every_fit(quick_project):
    root, _ = quick_project
    table = pd.read_csv(root / "book" / "generated" / "m6param" / "parameterization_comparison.csv")
    repeats = QUICK["timing_repeats"]
    assert len(table) == 6 * repeats  # three data sets, two forms, every repeat
    assert sorted(table["repeat"].unique()) == list(range(repeats))
    assert set(table["parameterization"]) == {"centred", "non-centred"}
    assert (table["sampling_seconds"] > 0).all()
    assert (table["min_ess_bulk"] > 0).all()
    np.testing.assert_allclose(
        table["ess_per_second"], table["min_ess_bulk"] / table["sampling_seconds"]
    )


def test_m6_notebook_fits_the_original_data(quick_project):
    root, _ = quick_project
    idata = az.from_netcdf(root / "book" / "generated" / "m6" / f"{CHAPTERS['m6'].fit_name}.nc")
    original = simulate_sgrna_copy_number(np.random.RandomState(103)).observations
    np.testing.assert_array_equal(idata.observed_data["logfc"].values, original["logfc"])


def test_parameter_override_reaches_the_notebook(quick_project):
    root, _ = quick_project
    idata = az.from_netcdf(root / "book" / "generated" / "m1" / "single_gene_rna.nc")
    assert idata.observed_data.sizes["obs"] == 25  # -p num_cell_lines 25


def test_m2_notebook_fits_the_original_data(quick_project, multigene_data):
    root, _ = quick_project
    idata = az.from_netcdf(root / "book" / "generated" / "m2" / "multigene_rna.nc")
    np.testing.assert_array_equal(
        idata.observed_data["logfc"].values, multigene_data.observations["logfc"].to_numpy()
    )


def test_tuple_parameters_reach_the_notebook_as_sequences(quick_project):
    root, _ = quick_project
    idata = az.from_netcdf(root / "book" / "generated" / "m5" / "zero_sum_cell_lines.nc")
    assert idata.posterior.sizes["sgrna"] == 16  # -p sgrnas_per_gene (1, 2, 3, 4, 6)


def test_calibration_ranks_every_parameter_of_the_four_models(quick_project):
    root, _ = quick_project
    generated = root / "book" / "generated" / "sbc"
    verdicts = pd.read_csv(generated / "calibration.csv")
    assert list(verdicts["chapter"].unique()) == ["m2", "m6", "m6corr", "m7"]
    assert set(verdicts["verdict"]) <= {"passes", "fails", "inconclusive"}
    assert (verdicts["outside_familywise_band"] <= verdicts["outside_band"]).all()
    assert (verdicts["outside_band"] <= verdicts["scalars"]).all()
    assert verdicts["interval_coverage"].between(0, 1).all()
    ranks = pd.read_csv(generated / "ranks_m6corr.csv")
    assert ranks["simulation"].nunique() == QUICK["num_simulations"]
    assert ranks["rank"].between(0, 20).all()  # L = 200 draws // thin 10
    assert {"rho", "alpha[sgRNA_01]", "beta[sgRNA_50]"} <= set(ranks["parameter"])
    scalars = verdicts.groupby("chapter")["scalars"].sum()
    assert len(ranks) == QUICK["num_simulations"] * scalars["m6corr"]
    fits = pd.read_csv(generated / "calibration_fits.csv")
    assert (fits["simulations"] == QUICK["num_simulations"]).all()


def test_calibration_runs_its_positive_controls_and_states_its_power(quick_project):
    root, _ = quick_project
    generated = root / "book" / "generated" / "sbc"
    controls = pd.read_csv(generated / "controls.csv")
    assert list(controls["control"]) == [c.name for c in CONTROLS]
    # the quick profile is too small to judge whether each is caught, but a
    # control is flagged exactly when some variable of it fails
    assert (controls["flagged"] == (controls["variables failing"] != "none")).all()
    assert set(controls["chapter"]) == {"m2"}
    power = pd.read_csv(generated / "power.csv")
    assert power["power"].between(0, 1).all()
    assert set(power["scalars_in_model"]) == {
        1,
        int(pd.read_csv(generated / "calibration.csv").groupby("chapter")["scalars"].sum().max()),
    }


@pytest.mark.parametrize("chapter", LOO_CHAPTERS)
def test_chapters_save_their_loo_comparison(quick_project, chapter):
    root, _ = quick_project
    table = pd.read_csv(root / "book" / "generated" / chapter / "loo_comparison.csv")
    assert len(table) >= 2
    assert (table["chapter"] == chapter).all()
    assert np.isfinite(table["elpd_loo"]).all()
    # ArviZ 1: each model minus the best, so the best is 0 and the rest below.
    assert table["elpd_diff"].iloc[0] == 0 and (table["elpd_diff"] <= 0).all()
    k = pd.read_csv(root / "book" / "generated" / chapter / "loo_pareto_k.csv")
    assert set(k["label"]) == set(table["label"])


def test_m7_compares_only_the_fits_that_converged(quick_project):
    root, _ = quick_project
    generated = root / "book" / "generated" / "m7"
    table = pd.read_csv(generated / "loo_comparison.csv").set_index("label")
    summary = pd.read_csv(generated / "summary.csv")
    worst_r_hat = summary.groupby("fit")["r_hat"].max()
    # 7b (one intercept per row) never converges; its elpd is not computed.
    assert worst_r_hat["sgrna_by_cell_line_7b"] > 1.01
    assert "7b" not in table.index
    assert table.loc["hierarchical 7c", "bad_pareto_k"] == 0


def test_predictive_checks_flag_each_misfit_and_spare_the_generating_model(quick_project):
    root, _ = quick_project
    checks = pd.read_csv(root / "book" / "generated" / "ppc" / "predictive_checks.csv")
    flagged = checks[checks["flagged"]].groupby("fit")["check"].apply(set)
    assert "generating model" not in flagged.index
    assert "mean by sgrna" in flagged["7a (no sgRNA level)"]
    assert "mean by sgrna" in flagged["7c (no sgRNA level)"]
    assert "mean by cell_line" in flagged["no cell lines"]
    assert "LOO-PIT uniform" in flagged["heavy tails, normal noise"]
    # the overall checks, the series' usual picture, miss every misfit
    overall = checks[checks["check"].str.endswith("of all rows")]
    assert not overall["flagged"].any()


def test_m7_scores_a_new_cell_line_by_grouped_kfold(quick_project):
    root, _ = quick_project
    table = pd.read_csv(root / "book" / "generated" / "m7" / "new_cell_line_kfold.csv")
    assert set(table["model"]) == {"7a", "hierarchical 7c"}
    best = table.iloc[0]
    # the generating model carries each sgRNA over to a new cell line; 7a
    # only its intercepts' mean: worse by many standard errors
    assert best["model"] == "hierarchical 7c"
    worse = table.iloc[1]
    assert worse["elpd_diff"] < -4 * worse["dse"]


def test_benchmark_chapter_fits_the_quick_model_with_every_engine(quick_project):
    root, _ = quick_project
    table = pd.read_csv(root / "book" / "generated" / "bench" / "benchmark.csv")
    repeats = QUICK["benchmark_repeats"]
    assert list(table["chapter"]) == ["m1"] * 3 * repeats
    engines = ("nutpie", "pymc", "numpyro")
    assert list(table["sampler"]) == [s for s in engines for _ in range(repeats)]
    assert list(table["repeat"]) == list(range(repeats)) * 3
    assert (table["draws"] == QUICK["benchmark_draws"]).all()
    assert table["parallel_chains"].all()
    assert (table["min_ess_bulk"] > 0).all()


def test_screen_chapter_fits_the_whole_genome_and_scores_it(quick_project):
    """The quick run: every screened gene has an effect from the grid, the
    grid agrees with NUTS on the sampled genes, and both scores beat chance
    on both reference sets."""
    from crispr_models.screen.data import load_crispy_screen

    root, _ = quick_project
    out = root / "book" / "generated" / "screen"
    effects = pd.read_csv(out / "gene_effects.csv", index_col="gene")
    screen = load_crispy_screen()
    assert set(effects.index) == set(screen.genes)
    estimable = effects[effects["estimable"]]
    assert estimable["prob_below"].between(0, 1).all() and (estimable["sd"] > 0).all()
    # only the homozygously deleted genes have no effect
    not_estimable = effects.index[~effects["estimable"]]
    assert (screen.gene_places().loc[not_estimable, "copy_number"] == 0).all()
    assert effects.loc[not_estimable, ["mean", "sd", "prob_below"]].isna().all().all()
    separation = pd.read_csv(out / "separation.csv")
    # the quick profile leaves the peers out: the naive median and the models
    assert list(separation["method"].unique()) == ["naive median", "series' model", "count model"]
    assert set(separation["reference"]) == {"BAGEL", "DepMap"}
    assert (separation["lower"] > 0.5).all()
    assert (separation["lower"] <= separation["estimate"]).all()
    methods = pd.read_csv(out / "methods.csv", index_col="method")
    assert list(methods.index) == ["naive median", "series' model", "count model"]
    # the NB1 count model predicts held-out replicates as promised in every
    # decile of abundance (the issue's 0.85-0.95); the series' NB2 does not
    coverage = pd.read_csv(out / "held_out_coverage.csv")
    count_model = coverage[coverage["model"] == "count model"]["coverage"]
    assert len(count_model) == 10 and count_model.between(0.85, 0.95).all()
    assert not coverage[coverage["model"] == "series' model"]["coverage"].between(0.85, 0.95).all()
    noise = pd.read_csv(out / "replicate_noise.csv")
    assert set(noise["by"]) == {"abundance", "depletion"} and (noise["variance_to_mean"] > 0).all()
    costs = pd.read_csv(out / "fit_costs.csv")
    assert costs["genes"].max() == len(effects)
    assert costs.loc[costs["genes"] < len(effects), "genes"].eq(QUICK_SCREEN_GENES).all()


def _write_small_screen(folder):
    """Some of AU565's genes as a reader's own files (other column names, a
    plasmid called pDNA, its own reference sets): every gene of chromosome
    17 from 35 to 42 Mb (the ERBB2 amplicon) and the reference genes of
    chromosomes 17 and 8."""
    from crispr_models.screen.data import (
        crispy_file,
        load_crispy_screen,
        load_gene_set,
        load_segments,
    )

    screen = load_crispy_screen()
    place = screen.gene_places()
    window = place[(place["chr"] == "17") & place["position"].between(35e6, 42e6)].index
    reference = load_gene_set(crispy_file("essential")) | load_gene_set(
        crispy_file("non_essential")
    )
    known = place[place["chr"].isin(["17", "8"]) & place.index.isin(list(reference))].index
    chosen = list(window.union(known))
    guides = screen.restrict_to_genes(chosen).guides
    counts = guides[["plasmid", *screen.replicates]].rename(
        columns={"plasmid": "pDNA", **{r: f"day14_{i}" for i, r in enumerate(screen.replicates)}}
    )
    # the library sizes of the real screen: these guides are a part of it
    counts.rename_axis("sgRNA").to_csv(folder / "counts.csv")
    library = pd.DataFrame(
        {
            "sgRNA_ID": guides.index,
            "Gene": guides["gene"],
            "chr": "chr" + guides["chr"],
            "start": guides["position"] - 11.5,
            "end": guides["position"] + 11.5,
        }
    )
    library.to_csv(folder / "library.csv", index=False)
    segments = load_segments(crispy_file("copy_number"))
    segments[segments["Chr"].isin(["17", "8"])].to_csv(folder / "segments.csv", index=False)
    essential = pd.read_csv(crispy_file("essential"))
    essential[essential["gene"].isin(chosen)].to_csv(folder / "essential.csv", index=False)
    non_essential = pd.read_csv(crispy_file("non_essential"))
    non_essential[non_essential["gene"].isin(chosen)].to_csv(folder / "non.csv", index=False)
    return chosen


def test_the_screen_chapter_analyses_a_readers_own_files(tmp_path):
    """``crispr-models run screen`` with another screen's files renders that
    screen's page: its genes, the peers on its guides, its own numbers."""
    folder = tmp_path / "mine"
    folder.mkdir()
    genes = _write_small_screen(folder)
    assert 250 < len(genes) < 600
    root = copy_project(tmp_path / "project")
    files = {
        "counts_file": "counts.csv",
        "library_file": "library.csv",
        "segments_file": "segments.csv",
        "essential_file": "essential.csv",
        "non_essential_file": "non.csv",
    }
    args = [f"--root={root}", "run", "screen", "--profile", "quick", "--no-progress"]
    for name, file in files.items():
        args += ["-p", name, str(folder / file)]
    args += ["-p", "plasmid", "pDNA", "-p", "sample_genes", "100", "-p", "nuts_checks", "false"]
    result = run_cli(*args, "-p", "peers", "true", "-p", "known_drivers", "('ERBB2',)")
    assert result.returncode == 0, result.stderr[-3000:]
    out = root / "book" / "generated" / "screen"
    effects = pd.read_csv(out / "gene_effects.csv", index_col="gene")
    assert set(effects.index) == set(genes)
    methods = pd.read_csv(out / "methods.csv", index_col="method")
    assert list(methods.index) == [
        "naive median",
        "MAGeCK2 RRA",
        "MAGeCK2 RRA --cnv-norm",
        "CRISPY",
        "count model",
    ]
    assert "ERBB2 percentile" in methods and (methods["seconds"] > 0).all()
    # without nuts_checks, no NUTS: the grid from the middle of the priors
    costs = pd.read_csv(out / "fit_costs.csv")
    assert list(costs["method"]) == ["grid and shared parameters, count model"]
    executed = (root / "book" / "generated" / "screen.ipynb").read_text()
    assert "Not the book's default run" in executed and "`counts_file` =" in executed
    assert undefined_glue(root / "book" / "generated" / "screen.ipynb") == set()


def test_a_missing_screen_file_is_refused_before_any_kernel(tmp_path):
    result = run_cli("run", "screen", "-p", "counts_file", str(tmp_path / "none.csv"))
    assert result.returncode == 2
    assert "counts_file" in result.stderr and "none.csv" in result.stderr


QUICK_SCREEN_GENES = CHAPTERS["screen"].profile_overrides["quick"]["sample_genes"]


def _glued(executed) -> dict:
    """The values a run glued for its prose, by name."""
    notebook = nbformat.read(executed, as_version=4)
    return {
        output["metadata"]["scrapbook"]["name"]: next(iter(output["data"].values()))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "scrapbook" in output.get("metadata", {})
    }


def test_a_rerun_with_other_parameters_reports_its_own_numbers(tmp_path):
    """m2 with another seed and 12 genes: the Conclusions cite that run."""
    root = copy_project(tmp_path)
    args = ["--root", str(root), "run", "m2", "--profile", "quick", "--no-progress"]
    result = run_cli(*args, "-p", "seed", "7", "-p", "num_genes", "12")
    assert result.returncode == 0, result.stderr[-3000:]
    executed = root / "book" / "generated" / "m2.ipynb"
    glued = _glued(executed)
    summary = pd.read_csv(root / "book" / "generated" / "m2" / "summary.csv")
    known = summary["hdi_covers_truth"].dropna()
    assert int(glued["m2_known"]) == len(known) == 5 + 2 * 12
    assert int(glued["m2_covered"]) == int(known.astype(bool).sum())
    gene_sd = summary.loc[summary["parameter"].str.match(r"(alpha|beta)\["), "sd"].max()
    assert float(glued["m2_gene_sd"]) == pytest.approx(gene_sd, rel=1e-6)
    text = executed.read_text()
    assert "Not the book's default run" in text
    assert "`seed` = 7 (default 103)" in text and "`num_genes` = 12 (default 5)" in text


@pytest.mark.parametrize("notebook_id", NOTEBOOKS)
def test_every_glued_number_in_the_prose_is_defined(quick_project, notebook_id):
    root, _ = quick_project
    assert undefined_glue(root / "book" / "generated" / f"{notebook_id}.ipynb") == set()
