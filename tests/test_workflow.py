"""The one-call workflow: fit, check, compare with the truth, save."""

import numpy as np
import pandas as pd
import pytest

from conftest import QUICK
from crispr_models.checks.diagnostics import ConvergenceError
from crispr_models.core.registry import CHAPTERS
from crispr_models.core.workflow import Experiment, fit_and_check
from crispr_models.series.models import single_gene_rna_model
from crispr_models.series.simulation import simulate_single_gene_rna


def test_experiment_takes_the_registry_settings_and_the_runs_overrides():
    namespace = {"seed": 1, "draws": 300, "artifacts_dir": "out", "short_draws": 50}
    experiment = Experiment.from_parameters("m2", np.random.default_rng(1), namespace)
    registry = CHAPTERS["m2"].sampling
    assert experiment.settings.draws == 300  # -p draws 300
    assert experiment.settings.tune == registry.tune
    assert experiment.settings.target_accept == registry.target_accept
    assert experiment.artifacts_dir == "out"
    assert "target_accept = 0.9" in experiment._repr_html_()


def test_a_variant_shown_for_its_problem_runs_with_short_draws():
    m4 = Experiment.from_parameters("m4", np.random.default_rng(1), {"short_draws": 50})
    assert m4.settings.short() == m4.settings.short(50)
    assert (m4.settings.short().draws, m4.settings.short().tune) == (50, 50)
    m2 = Experiment.from_parameters("m2", np.random.default_rng(1), {})
    assert m2.settings.short_draws is None and m2.settings.short() == m2.settings


def test_experiment_simulates_with_the_chapters_true_values():
    namespace = {"num_cell_lines": 7, "true_alpha": 0.25, "true_sigma": 0.1, "draws": 10}
    experiment = Experiment.from_parameters("m1", np.random.default_rng(3), namespace)
    simulated = experiment.simulate(simulate_single_gene_rna, beta=-2.0)
    data, truth = simulated
    assert data is simulated.observations and truth is simulated.truth
    assert len(simulated.observations) == 7
    assert simulated.truth["alpha"] == 0.25 and simulated.truth["sigma"] == 0.1
    assert simulated.truth["beta"] == -2.0  # given explicitly: wins
    again = Experiment.from_parameters("m1", np.random.default_rng(3), namespace)
    pd.testing.assert_frame_equal(
        again.simulate(simulate_single_gene_rna, beta=-2.0).observations,
        simulated.observations,
    )


def test_a_true_value_the_simulation_does_not_take_is_refused():
    namespace = {"true_alpha": 0.25, "true_gamma": 1.0, "true_rho": 0.5}
    experiment = Experiment.from_parameters("m1", np.random.default_rng(3), namespace)
    with pytest.raises(ValueError, match="true_gamma, true_rho: simulate_single_gene_rna has no"):
        experiment.simulate(simulate_single_gene_rna)


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="chapter must be one of"):
        Experiment.from_parameters("m99", np.random.default_rng(0), {})


@pytest.fixture(scope="module")
def single_gene():
    simulated = simulate_single_gene_rna(np.random.default_rng(11))
    return single_gene_rna_model(simulated.observations), simulated.truth


def _fit_one_gene(single_gene, folder, settings, **options):
    model, truth = single_gene
    return fit_and_check(
        model,
        np.random.default_rng(5),
        settings,
        name="one_gene",
        truth=truth,
        artifacts_dir=str(folder),
        **options,
    )


@pytest.mark.slow
def test_a_fit_to_use_is_checked_tabulated_and_saved(tmp_path, single_gene):
    checked = _fit_one_gene(single_gene, tmp_path, QUICK)
    assert checked.report.passed
    assert set(checked.table["parameter"]) == {"alpha", "beta", "sigma"}
    assert checked.known == 3 and 0 <= checked.covered <= 3
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert (summary["fit"] == "one_gene").all() and (summary["status"] == "use").all()
    assert (tmp_path / "one_gene.nc").exists()
    assert "Convergence passed" in checked._repr_html_()
    assert checked.coverage_line in repr(checked)


@pytest.mark.slow
def test_a_fit_that_fails_its_checks_is_not_saved_as_one_to_use(tmp_path, single_gene):
    too_short = QUICK.short(20)  # 2 chains x 20 draws: ESS far below 100 per chain
    with pytest.raises(ConvergenceError, match="ESS"):
        _fit_one_gene(single_gene, tmp_path, too_short)
    assert not (tmp_path / "one_gene.nc").exists()
    shown = _fit_one_gene(single_gene, tmp_path, too_short, status="pathological")
    assert not shown.report.passed
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert (summary["status"] == "pathological").all()


@pytest.mark.slow
def test_loo_compares_only_the_fits_that_converged(tmp_path, single_gene):
    experiment = Experiment("m4", np.random.default_rng(6), QUICK, str(tmp_path))
    model, truth = single_gene
    good = experiment.fit(model, "good", truth)
    again = experiment.fit(model, "again", truth)
    too_short = fit_and_check(
        model,
        np.random.default_rng(7),
        QUICK.short(20),
        name="short",
        truth=truth,
        status="pathological",
    )
    assert not too_short.report.passed
    comparison = experiment.compare_by_loo({"good": good, "again": again, "short": too_short})
    assert set(comparison.table["label"]) == {"good", "again"}
    assert list(comparison.left_out) == ["short"]
    assert "did not converge" in comparison.left_out["short"]
    assert "Not compared" in comparison._repr_html_()
    with pytest.raises(ValueError, match="fewer than two did \\(left out: short\\)"):
        experiment.compare_by_loo({"good": good, "short": too_short})
