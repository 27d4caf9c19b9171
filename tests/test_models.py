import numpy as np
import pandas as pd
import pytest

from conftest import MULTIGENE_PARAMETERS
from crispr_models.series.models import multigene_rna_model, single_gene_rna_model
from crispr_models.series.simulation import gene_names


@pytest.mark.parametrize("builder", [single_gene_rna_model, multigene_rna_model])
def test_log_probability_is_finite_at_the_initial_point(builder, multigene_data):
    model = builder(multigene_data.observations)
    logp = model.compile_logp()(model.initial_point())
    assert np.isfinite(logp)


def test_multigene_model_has_named_dims_and_coords(multigene_data):
    model = multigene_rna_model(multigene_data.observations)
    assert model.named_vars_to_dims["alpha"] == ("gene",)
    assert model.named_vars_to_dims["beta"] == ("gene",)
    assert model.named_vars_to_dims["logfc"] == ("obs",)
    assert list(model.coords["gene"]) == gene_names(5)
    assert len(model.coords["obs"]) == 150
    assert {v.name for v in model.free_RVs} == MULTIGENE_PARAMETERS


def test_single_gene_model_variables(single_gene_model):
    assert {v.name for v in single_gene_model.free_RVs} == {"alpha", "beta", "sigma"}
    assert single_gene_model.named_vars_to_dims["logfc"] == ("obs",)


def test_models_refuse_a_missing_column(multigene_data):
    with pytest.raises(ValueError, match="gene"):
        multigene_rna_model(multigene_data.observations.drop(columns="gene"))


def test_models_refuse_non_finite_logfc(multigene_data):
    broken = multigene_data.observations.assign(logfc=np.nan)
    with pytest.raises(ValueError, match="logfc"):
        single_gene_rna_model(broken)


def test_models_refuse_something_else_than_a_dataframe():
    with pytest.raises(TypeError, match="DataFrame"):
        multigene_rna_model({"gene": ["a"], "rna": [0.0], "logfc": [0.0]})
    with pytest.raises(ValueError, match="no rows"):
        single_gene_rna_model(pd.DataFrame({"rna": [], "logfc": []}))


def test_groups_without_data_get_no_effect():
    # a subset of a categorical column keeps the other categories; the model
    # must not give them effects (zero-sum cell lines would then trade with them)
    from crispr_models.series.models import sgrna_cell_line_model
    from crispr_models.series.simulation import simulate_sgrna_cell_line

    data = simulate_sgrna_cell_line(np.random.default_rng(1), num_cell_lines=6).observations
    subset = data[data["cell_line"].astype(str) != "cell_3"].reset_index(drop=True)
    assert "cell_3" in list(subset["cell_line"].cat.categories)
    model = sgrna_cell_line_model(subset)
    assert "cell_3" not in list(model.coords["cell_line"])
    assert len(model.coords["cell_line"]) == 5
