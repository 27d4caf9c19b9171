"""Simulation-based calibration: ranks, bands and verdicts."""

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from crispr_models import calibration
from crispr_models.calibration import (
    CalibrationResult,
    CalibrationSettings,
    calibration_fit_summary,
    calibration_table,
    rank_ecdf_band,
    rank_ecdf_differences,
    simulation_based_calibration,
)
from crispr_models.models import multigene_rna_model

#: Real sampling or many kernels: in make test, not in make test-fast.
pytestmark = pytest.mark.slow

TINY = CalibrationSettings(num_simulations=12, draws=100, tune=100, thin=5)


@pytest.fixture(scope="module")
def compile_calls(monkeypatch_module):
    """Count nutpie compilations during the module's one SBC run."""
    import nutpie

    calls = []
    original = nutpie.compile_pymc_model

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch_module.setattr(nutpie, "compile_pymc_model", counting)
    return calls


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def single_gene_sbc(single_gene_model, compile_calls):
    return simulation_based_calibration(
        single_gene_model,
        np.random.default_rng(7),
        ["alpha", "beta", "sigma"],
        TINY,
        chapter="m1",
    )


def test_ranks_have_one_row_per_simulation_and_parameter(single_gene_sbc):
    ranks = single_gene_sbc.ranks
    assert len(ranks) == TINY.num_simulations * 3
    assert set(ranks["parameter"]) == {"alpha", "beta", "sigma"}
    assert ranks["rank"].between(0, TINY.max_rank).all()
    assert TINY.max_rank == 20
    assert sorted(ranks["simulation"].unique()) == list(range(TINY.num_simulations))


def test_model_is_compiled_once_for_all_simulations(single_gene_sbc, compile_calls):
    assert len(compile_calls) == 1
    fits = single_gene_sbc.fits
    assert len(fits) == TINY.num_simulations
    assert (fits["seconds"] > 0).all()
    assert fits["seed"].nunique() == TINY.num_simulations
    assert (fits["min_ess_bulk"] > 0).all()
    assert fits["worst_ess_variable"].isin(["alpha", "beta", "sigma"]).all()


def test_same_generator_state_gives_the_same_ranks(single_gene_model, single_gene_sbc):
    again = simulation_based_calibration(
        single_gene_model, np.random.default_rng(7), ["alpha", "beta", "sigma"], TINY
    )
    pd.testing.assert_frame_equal(again.ranks, single_gene_sbc.ranks)


def test_vector_parameters_are_ranked_per_element(multigene_data):
    model = multigene_rna_model(multigene_data.observations)
    settings = CalibrationSettings(num_simulations=2, draws=20, tune=50, thin=2)
    result = simulation_based_calibration(model, np.random.default_rng(1), ["alpha"], settings)
    genes = list(model.coords["gene"])
    assert sorted(result.ranks["parameter"].unique()) == sorted(f"alpha[{g}]" for g in genes)
    assert (result.ranks["variable"] == "alpha").all()


def test_fit_summary_counts_the_simulations(single_gene_sbc):
    summary = calibration_fit_summary(single_gene_sbc)
    assert summary["simulations"] == TINY.num_simulations
    assert 0 <= summary["with_divergences"] <= TINY.num_simulations
    assert summary["total_seconds"] >= summary["compile_seconds"] > 0
    assert summary["most_often_lowest_ess"] in {"alpha", "beta", "sigma"}
    below = (single_gene_sbc.fits["min_ess_bulk"] < TINY.max_rank).sum()
    assert summary["below_ess_max_rank"] == below


def _result(ranks: np.ndarray, max_rank: int) -> CalibrationResult:
    """A result holding given ranks (simulations x scalars) of one variable."""
    simulations, scalars = ranks.shape
    frame = pd.DataFrame(
        [
            (i, "theta", f"theta[{j}]", int(ranks[i, j]))
            for i in range(simulations)
            for j in range(scalars)
        ],
        columns=["simulation", "variable", "parameter", "rank"],
    )
    settings = CalibrationSettings(num_simulations=simulations, draws=max_rank, thin=1)
    return CalibrationResult("synthetic", settings, frame, pd.DataFrame(), 0.0, 0.0)


def test_uniform_ranks_cover_at_the_nominal_rate():
    rng = np.random.default_rng(3)
    table = calibration_table(_result(rng.integers(0, 21, size=(200, 4)), 20))
    assert table.loc[0, "scalars"] == 4
    nominal = table.loc[0, "nominal_coverage"]
    assert nominal == pytest.approx(19 / 21)
    # 200 x 4 ranks: coverage within 3 binomial standard errors of nominal.
    standard_error = np.sqrt(nominal * (1 - nominal) / 800)
    assert abs(table.loc[0, "interval_coverage"] - nominal) < 3 * standard_error


def test_familywise_verdict_fails_a_calibrated_model_at_most_5_percent_of_the_time():
    rng = np.random.default_rng(17)
    replicates = 400
    failed = [
        calibration_table(_result(rng.integers(0, 21, size=(200, 4)), 20)).loc[0, "verdict"]
        == "fails"
        for _ in range(replicates)
    ]
    # Bonferroni over 4 independent scalars: 1 - (1 - 0.05 / 4) ** 4 = 4.9 %.
    standard_error = np.sqrt(0.05 * 0.95 / replicates)
    assert np.mean(failed) <= 0.05 + 3 * standard_error


def test_overconfident_ranks_fail():
    rng = np.random.default_rng(3)
    # A posterior too narrow: truths fall outside the draws a third of the time.
    narrow = np.where(rng.random((200, 4)) < 1 / 3, rng.choice([0, 20], (200, 4)), 10)
    failing = calibration_table(_result(narrow, 20))
    assert failing.loc[0, "verdict"] == "fails"
    assert failing.loc[0, "outside_familywise_band"] == 4


def test_band_holds_uniform_ecdfs_about_95_percent_of_the_time():
    num_simulations, max_rank, trials = 100, 20, 2000
    band = rank_ecdf_band(num_simulations, max_rank, 0.95)
    assert (band["lower"] < 0).all() and (band["upper"] > 0).all()
    rng = np.random.default_rng(11)
    ranks = rng.integers(0, max_rank + 1, size=(trials, num_simulations))
    points = band["rank"].to_numpy()
    ecdf = (ranks[:, :, None] <= points).mean(axis=1) - band["fractional_rank"].to_numpy()
    lower, upper = band["lower"].to_numpy() - 1e-12, band["upper"].to_numpy() + 1e-12
    inside = ((ecdf >= lower) & (ecdf <= upper)).all(axis=1)
    standard_error = np.sqrt(0.95 * 0.05 / trials)
    # Discrete ranks make the band somewhat conservative, never liberal.
    assert inside.mean() >= 0.95 - 3 * standard_error
    assert inside.mean() <= 0.995


def test_ecdf_differences_end_near_zero(single_gene_sbc):
    differences = rank_ecdf_differences(single_gene_sbc)
    assert len(differences) == 3 * TINY.max_rank
    assert differences["ecdf_difference"].abs().max() <= 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"thin": 0}, ValueError, "thin must be a positive integer"),
        ({"draws": 10, "thin": 20}, ValueError, "draws // thin"),
        ({"target_accept": 1.5}, ValueError, "target_accept"),
        ({"num_simulations": "many"}, TypeError, "num_simulations"),
    ],
)
def test_bad_settings_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        CalibrationSettings(**kwargs)


def test_bad_arguments_are_refused_before_sampling(single_gene_model):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="not in the model; accepted"):
        simulation_based_calibration(single_gene_model, rng, ["gamma"], TINY)
    with pytest.raises(ValueError, match="non-empty list"):
        simulation_based_calibration(single_gene_model, rng, "alpha", TINY)
    with pytest.raises(TypeError, match="pymc.Model"):
        simulation_based_calibration("model", rng, ["alpha"], TINY)
    with pytest.raises(TypeError, match="rng"):
        simulation_based_calibration(single_gene_model, 1, ["alpha"], TINY)
    with pm.Model() as plain:
        pm.Normal("logfc", observed=np.zeros(3))
    with pytest.raises(ValueError, match="logfc_observed"):
        simulation_based_calibration(plain, rng, ["logfc"], TINY)


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="chapter must be one of"):
        calibration.calibrate_recommended("m99", np.random.default_rng(0), TINY)
