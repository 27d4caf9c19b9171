"""Grouped posterior predictive checks and LOO-PIT: each can pass and fail."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from crispr_models.checks.predictive import (
    check_fits,
    extreme_groups_by,
    flag_matrix,
    flagged_checks,
    group_p_values,
    grouped_checks,
    loo_pit_check,
)
from crispr_models.series.models import multigene_rna_model


def _fit(observed: np.ndarray, replicated: np.ndarray) -> xr.DataTree:
    """A fit with only observed and replicated logFC (draws x rows)."""
    draws, rows = replicated.shape
    predictive = xr.Dataset(
        {"logfc": (("chain", "draw", "obs"), replicated.reshape(1, draws, rows))}
    )
    observed_data = xr.Dataset({"logfc": (("obs",), observed)})
    return xr.DataTree.from_dict(
        {"posterior_predictive": predictive, "observed_data": observed_data}
    )


@pytest.fixture
def design():
    """Ten cell lines with 30 rows each; cell line 0 and 1 sit 1 unit high."""
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"cell_line": np.repeat([f"cell_{i}" for i in range(10)], 30)})
    shift = np.where(data["cell_line"].isin(["cell_0", "cell_1"]), 1.0, 0.0)
    data["logfc"] = shift + rng.normal(0, 0.3, len(data))
    return data, shift, rng


def test_a_model_that_knows_the_groups_passes_and_one_that_does_not_is_flagged(design):
    data, shift, rng = design
    draws = 400
    right = shift + rng.normal(0, 0.3, (draws, len(data)))
    # without the two cell lines' shift, but with its noise widened to the
    # overall spread, as a fitted model would widen it
    wide = rng.normal(shift.mean(), data["logfc"].std(), (draws, len(data)))
    for replicated, flagged in ((right, False), (wide, True)):
        checks = grouped_checks(_fit(data["logfc"].to_numpy(), replicated), data).set_index("check")
        assert bool(checks.loc["mean by cell_line", "flagged"]) is flagged
        assert not checks.loc["mean of all rows", "flagged"]
        assert checks.loc["mean by cell_line", "groups"] == 10


def test_p_values_are_the_share_of_replicates_at_least_the_observed(design):
    data, _, _ = design
    observed = data["logfc"].to_numpy()
    # every replicate below the data in cell_0, above it elsewhere
    replicated = np.tile(observed, (4, 1)) + np.where(data["cell_line"] == "cell_0", -1.0, 1.0)
    p = group_p_values(_fit(observed, replicated), data, "cell_line").set_index("group")
    assert p.loc["cell_0", "p_value"] == 0.0
    assert (p.drop("cell_0")["p_value"] == 1.0).all()
    assert p.loc["cell_0", "observed"] == pytest.approx(observed[:30].mean())


def test_the_binomial_rule_allows_what_chance_allows(design):
    data, _, rng = design
    observed = data["logfc"].to_numpy()
    # replicates centred on the data, except one cell line above it and one
    # below: 2 extreme groups of 10, and P(X >= 2) under Binomial(10, 0.05)
    # is 0.086, not improbable
    replicated = observed + rng.normal(0, 0.3, (100, len(data)))
    replicated[:, :30] += 1.0
    replicated[:, 30:60] -= 1.0
    checks = grouped_checks(_fit(observed, replicated), data, statistics=("mean",))
    row = checks.set_index("check").loc["mean by cell_line"]
    assert row["extreme"] == 2
    assert not row["flagged"]
    # a third shifted cell line: P(X >= 3) = 0.012, still allowed at 1 %; a
    # fourth: 0.001, flagged
    replicated[:, 60:90] += 1.0
    replicated[:, 90:120] += 1.0
    checks = grouped_checks(_fit(observed, replicated), data, statistics=("mean",))
    row = checks.set_index("check").loc["mean by cell_line"]
    assert row["extreme"] == 4
    assert row["flagged"]


def test_one_outlier_per_group_fails_the_sd_check_and_passes_the_trimmed_one():
    # 40 groups of five normal values, each with one value 2 units off: the
    # replicates (no outliers) are too narrow for the sds, not once the
    # furthest value of each group is left out of both
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"gene": np.repeat([f"g{i}" for i in range(40)], 5)})
    observed = rng.normal(0, 0.3, len(data))
    observed[::5] += 2.0
    data["logfc"] = observed
    replicated = rng.normal(0, 0.3, (400, len(data)))
    checks = grouped_checks(
        _fit(observed, replicated), data, by=("gene",), statistics=("sd", "trimmed_sd")
    ).set_index("check")
    assert checks.loc["sd by gene", "flagged"]
    assert checks.loc["sd by gene", "extreme"] == checks.loc["sd by gene", "above"] == 40
    assert not checks.loc["trimmed_sd by gene", "flagged"]


def test_extreme_groups_are_counted_by_label_and_direction():
    p_values = pd.DataFrame({"group": ["a", "b", "c", "d"], "p_value": [0.01, 0.5, 0.99, 0.001]})
    labels = pd.Series({"a": "x", "b": "x", "c": "y", "d": "y"})
    table = extreme_groups_by(p_values, labels)
    assert table.loc["x"].tolist() == [2, 1, 0]
    assert table.loc["y"].tolist() == [2, 1, 1]
    with pytest.raises(ValueError, match="labels must label every group; missing: d"):
        extreme_groups_by(p_values, labels.drop("d"))


def test_groups_too_small_for_the_statistic_are_left_out(design):
    data, _, rng = design
    data = pd.concat([data, pd.DataFrame({"cell_line": ["alone"], "logfc": [0.0]})])
    observed = data["logfc"].to_numpy()
    fit = _fit(observed, observed + rng.normal(0, 0.3, (50, len(data))))
    assert "alone" in set(group_p_values(fit, data, "cell_line", "mean")["group"])
    for statistic in ("sd", "trimmed_sd"):
        assert "alone" not in set(group_p_values(fit, data, "cell_line", statistic)["group"])


def test_loo_pit_check_rejects_a_u_shape_and_accepts_uniform():
    rng = np.random.default_rng(1)
    assert not loo_pit_check(rng.uniform(size=1000))["flagged"]
    u_shaped = loo_pit_check(rng.beta(0.5, 0.5, size=1000))
    assert u_shaped["flagged"]
    assert u_shaped["p_value"] < 0.01


def test_bad_input_is_refused(design):
    data, shift, rng = design
    fit = _fit(data["logfc"].to_numpy(), rng.normal(size=(10, len(data))))
    with pytest.raises(ValueError, match="statistic must be one of"):
        group_p_values(fit, data, "cell_line", "median")
    with pytest.raises(ValueError, match="by must be 'all rows' or a column"):
        group_p_values(fit, data, "sgrna")
    with pytest.raises(ValueError, match="fitted observations"):
        group_p_values(fit, data.iloc[::-1], "cell_line")
    with pytest.raises(ValueError, match="at least one"):
        check_fits({}, data)


def test_a_real_fit_is_checked_and_tabulated(multigene_fit, multigene_data):
    data = multigene_data.observations
    model = multigene_rna_model(data)
    checks, pit = check_fits({"m2": (model, multigene_fit)}, data)
    assert set(checks["check"]) >= {"mean by gene", "sd by gene", "LOO-PIT uniform"}
    assert len(pit) == len(data)
    assert pit["loo_pit"].between(0, 1).all()
    # the generating model, fitted to its own data: nothing flagged
    assert flagged_checks(checks, "m2") == "none"
    assert flag_matrix(checks).columns.tolist() == ["m2"]
    with pytest.raises(ValueError, match="not in the checks"):
        flagged_checks(checks, "m3")
