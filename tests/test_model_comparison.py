"""PSIS-LOO comparison of fits to the same observations."""

import numpy as np
import pytest

from conftest import QUICK
from crispr_models.checks.diagnostics import PARETO_K_MAX, loo_comparison
from crispr_models.core.fitting import fit
from crispr_models.series.models import multigene_rna_model, single_gene_rna_model

#: Real sampling or many kernels: in make test, not in make test-fast.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_fits(multigene_data, multigene_fit):
    """Model 2 and, on the same data, one line for all genes (no gene effects)."""
    observations = multigene_data.observations
    pooled = single_gene_rna_model(observations)
    pooled_fit = fit(pooled, np.random.default_rng(2), QUICK)
    return {
        "genes": (multigene_rna_model(observations), multigene_fit),
        "one line": (pooled, pooled_fit),
    }


@pytest.fixture(scope="module")
def comparison(two_fits):
    return loo_comparison(two_fits)


def test_model_with_gene_effects_predicts_better(comparison):
    table = comparison.table.set_index("label")
    assert list(comparison.table["label"]) == ["genes", "one line"]
    # Five genes with slopes from -3 to +3.7: pooling them costs far more than
    # the difference's standard error.
    assert -table.loc["one line", "elpd_diff"] > 4 * table.loc["one line", "dse"]
    assert table.loc["genes", "elpd_diff"] == 0
    assert 0 < table.loc["genes", "p_loo"] < 20  # 13 parameters, partially pooled


def test_pareto_k_is_reported_per_observation(comparison, multigene_data):
    rows = len(multigene_data.observations)
    k = comparison.pareto_k
    assert len(k) == 2 * rows
    assert set(k["label"]) == {"genes", "one line"}
    table = comparison.table.set_index("label")
    for label, group in k.groupby("label"):
        assert table.loc[label, "max_pareto_k"] == pytest.approx(group["pareto_k"].max())
        assert table.loc[label, "bad_pareto_k"] == (group["pareto_k"] > PARETO_K_MAX).sum()


def test_prose_values_are_the_tables_headline(comparison):
    table = comparison.table.set_index("label")
    values = comparison.prose_values("m0")
    assert values["m0_best"] == "genes"
    assert values["m0_elpd_diff"] == pytest.approx(-table.loc["one line", "elpd_diff"])
    assert values["m0_dse"] == pytest.approx(table.loc["one line", "dse"])
    assert values["m0_bad_k"] == table["bad_pareto_k"].sum()
    assert values["m0_bad_k_by_fit"] == ", ".join(
        f"{label} {k}" for label, k in table["bad_pareto_k"].items()
    )


def test_fits_are_not_extended_with_the_log_likelihood(two_fits, comparison):
    assert "log_likelihood" not in two_fits["genes"][1].children


def test_bad_input_is_refused(two_fits, single_gene_data, single_gene_model):
    with pytest.raises(ValueError, match="at least two"):
        loo_comparison({"genes": two_fits["genes"]})
    with pytest.raises(TypeError, match="must be \\(pymc.Model, xarray.DataTree\\)"):
        loo_comparison({"genes": two_fits["genes"], "bad": ("model", None)})
    other = fit(single_gene_model, np.random.default_rng(4), QUICK, draws=200, tune=200)
    with pytest.raises(ValueError, match="other observations"):
        loo_comparison({"genes": two_fits["genes"], "other data": (single_gene_model, other)})
