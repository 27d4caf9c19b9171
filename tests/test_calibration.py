"""Simulation-based calibration: ranks, bands and verdicts."""

import dataclasses

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from crispr_models.checks import calibration
from crispr_models.checks.calibration import (
    CONTROLS,
    CalibrationResult,
    CalibrationSettings,
    calibrate_recommended,
    calibration_fit_summary,
    calibration_table,
    control_table,
    detection_power,
    rank_ecdf_band,
    rank_ecdf_differences,
    simulation_based_calibration,
    swapped_index,
    widened_prior,
)
from crispr_models.series.models import multigene_rna_model
from crispr_models.series.simulation import MULTIGENE_RNA

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


def _sbc(model, data, rng, var_names, settings, **options):
    """SBC of a model built on ``data``, simulated as model 1 and 2 simulate."""
    return simulation_based_calibration(
        model,
        rng,
        var_names,
        settings,
        design=data.observations,
        predictor=MULTIGENE_RNA,
        **options,
    )


@pytest.fixture(scope="module")
def single_gene_sbc(single_gene_model, single_gene_data, compile_calls):
    return _sbc(
        single_gene_model,
        single_gene_data,
        np.random.default_rng(7),
        ["alpha", "beta", "sigma"],
        TINY,
        chapter="m1",
        posterior_scales=(0.5,),
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


def test_same_generator_state_gives_the_same_ranks(
    single_gene_model, single_gene_data, single_gene_sbc
):
    again = _sbc(
        single_gene_model,
        single_gene_data,
        np.random.default_rng(7),
        ["alpha", "beta", "sigma"],
        TINY,
        posterior_scales=(0.5,),
    )
    pd.testing.assert_frame_equal(again.ranks, single_gene_sbc.ranks)
    pd.testing.assert_frame_equal(again.scaled_ranks, single_gene_sbc.scaled_ranks)


def test_scaled_ranks_rank_the_same_fits_with_narrower_draws(single_gene_sbc):
    narrow = single_gene_sbc.at_posterior_scale(0.5).ranks
    assert list(narrow.columns) == list(single_gene_sbc.ranks.columns)
    assert len(narrow) == len(single_gene_sbc.ranks)
    # Draws shrunk towards their mean never bring a truth back inside them:
    # a rank at 0 or L stays there, and others can only join it.
    at_ends = [r["rank"].isin([0, TINY.max_rank]) for r in (single_gene_sbc.ranks, narrow)]
    assert (at_ends[1] >= at_ends[0]).all()
    with pytest.raises(ValueError, match="no ranks at posterior scale 3"):
        single_gene_sbc.at_posterior_scale(3.0)


def test_vector_parameters_are_ranked_per_element(multigene_data):
    model = multigene_rna_model(multigene_data.observations)
    settings = CalibrationSettings(num_simulations=2, draws=20, tune=50, thin=2)
    result = _sbc(model, multigene_data, np.random.default_rng(1), ["alpha"], settings)
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


def test_bad_arguments_are_refused_before_sampling(single_gene_model, single_gene_data):
    rng = np.random.default_rng(0)
    model, data = single_gene_model, single_gene_data
    with pytest.raises(ValueError, match="not in the model; accepted"):
        _sbc(model, data, rng, ["gamma"], TINY)
    with pytest.raises(ValueError, match="non-empty list"):
        _sbc(model, data, rng, "alpha", TINY)
    with pytest.raises(TypeError, match="pymc.Model"):
        _sbc("model", data, rng, ["alpha"], TINY)
    with pytest.raises(TypeError, match="rng"):
        _sbc(model, data, 1, ["alpha"], TINY)
    with pytest.raises(ValueError, match="design must be the DataFrame the model was built on"):
        simulation_based_calibration(
            model, rng, ["alpha"], TINY, design=data.observations.head(3), predictor=MULTIGENE_RNA
        )
    with pm.Model() as plain:
        pm.Normal("logfc", observed=np.zeros(3))
    with pytest.raises(ValueError, match="logfc_observed"):
        _sbc(plain, data, rng, ["logfc"], TINY)


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="chapter must be one of"):
        calibration.calibrate_recommended("m99", np.random.default_rng(0), TINY)


def test_a_model_whose_fits_diverge_gets_no_pass():
    rng = np.random.default_rng(5)
    result = _result(rng.integers(0, 21, size=(200, 2)), 20)
    calm = dataclasses.replace(result, fits=pd.DataFrame({"divergences": [0] * 100}))
    assert calibration_table(calm).loc[0, "verdict"] == "passes"
    diverging = dataclasses.replace(result, fits=pd.DataFrame({"divergences": [0] * 90 + [3] * 10}))
    assert diverging.divergent_share == pytest.approx(0.10)
    assert calibration_table(diverging).loc[0, "verdict"] == "inconclusive"


def test_detection_power_is_the_false_alarm_rate_for_a_calibrated_posterior():
    trials = 1000
    power = detection_power(200, 20, np.random.default_rng(2), trials=trials)
    # The band holds a uniform ECDF with probability 95 % (somewhat more for
    # discrete ranks): about 5 % false alarms, within 3 Monte Carlo errors.
    assert power <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / trials)


def test_detection_power_grows_with_the_error():
    rng = np.random.default_rng(4)
    half_as_wide = detection_power(200, 20, rng, posterior_scale=0.5, trials=200)
    slightly_narrow = detection_power(200, 20, rng, posterior_scale=0.9, trials=200)
    shifted = detection_power(200, 20, rng, bias=1.0, trials=200)
    assert half_as_wide > 0.95 and shifted > 0.95
    assert slightly_narrow < half_as_wide
    # A Bonferroni band for 100 scalars is wider: it detects less.
    familywise = detection_power(200, 20, rng, posterior_scale=0.8, num_scalars=100, trials=200)
    marginal = detection_power(200, 20, rng, posterior_scale=0.8, trials=200)
    assert familywise < marginal


def test_perturbations_change_the_data_or_the_truth_as_named():
    genes = pd.Index(["gene_A", "gene_B", "gene_C"], name="gene")
    effects = {
        "alpha": pd.Series([1.0, 2.0, 3.0], index=genes),
        "beta": pd.Series([0.0, 1.0, 2.0], index=genes),
        "mu_beta": 1.0,
        "sigma_beta": 0.5,
        "sigma": 0.3,
    }
    data, truth = widened_prior("beta", "mu_beta", "sigma_beta")(effects, effects)
    assert data is truth and truth["sigma_beta"] == 1.0
    assert list(truth["beta"]) == [-1.0, 1.0, 3.0]
    data, truth = swapped_index("alpha")(effects, effects)
    assert truth is effects
    assert list(data["alpha"]) == [3.0, 1.0, 2.0] and list(data["alpha"].index) == list(genes)


@pytest.fixture(scope="module")
def control_results():
    """Model 2's positive controls with few simulations: gross errors show."""
    settings = CalibrationSettings(num_simulations=40, draws=100, tune=200, thin=5)
    results = {}
    plain = calibrate_recommended(
        "m2", np.random.default_rng(8), settings, posterior_scales=(0.5, 2.0)
    )
    for control in CONTROLS:
        results[control.name] = (
            calibrate_recommended("m2", np.random.default_rng(8), settings, perturb=control.perturb)
            if control.perturb
            else plain
        )
    return results


def test_swapped_index_and_narrow_posteriors_are_flagged(control_results):
    table = control_table(control_results).set_index("control")
    assert table.loc["swapped index", "flagged"]
    assert "alpha" in table.loc["swapped index", "variables failing"]
    assert table.loc["posterior too narrow", "flagged"]
    assert set(table.index) == {c.name for c in CONTROLS}
