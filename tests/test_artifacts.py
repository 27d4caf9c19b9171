import arviz as az
import pandas as pd
import pytest

from crispr_models.checks.diagnostics import SUMMARY_COLUMNS, recovery_table
from crispr_models.core.artifacts import SUMMARY_FILE, save_fit


@pytest.fixture(scope="module")
def table(multigene_fit, multigene_data):
    return recovery_table(multigene_fit, multigene_data.truth, "multigene_rna")


def test_save_fit_writes_netcdf_and_summary(tmp_path, multigene_fit, table):
    path = save_fit(tmp_path / "m2", "multigene_rna", multigene_fit, table)
    assert path == tmp_path / "m2" / "multigene_rna.nc"
    loaded = az.from_netcdf(path)
    assert set(multigene_fit.children) <= set(loaded.children)
    summary = pd.read_csv(tmp_path / "m2" / SUMMARY_FILE)
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert len(summary) == len(table)


def test_saving_again_replaces_a_models_rows_and_keeps_others(tmp_path, multigene_fit, table):
    save_fit(tmp_path, "multigene_rna", multigene_fit, table)
    save_fit(tmp_path, "multigene_rna", multigene_fit, table)
    save_fit(tmp_path, "other", multigene_fit, table.assign(fit="other"))
    summary = pd.read_csv(tmp_path / SUMMARY_FILE)
    assert summary["fit"].value_counts().to_dict() == {
        "multigene_rna": len(table),
        "other": len(table),
    }


def test_no_directory_means_nothing_is_written(multigene_fit, table):
    assert save_fit("", "multigene_rna", multigene_fit, table) is None


def test_bad_names_and_tables_are_refused(tmp_path, multigene_fit, table):
    with pytest.raises(ValueError, match="fit_name"):
        save_fit(tmp_path, "../escape", multigene_fit, table)
    with pytest.raises(ValueError, match="true_value"):
        save_fit(tmp_path, "m", multigene_fit, table.drop(columns="true_value"))
