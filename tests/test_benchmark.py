"""The sampler benchmark on one small model: shape and sanity, not speed."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO_ROOT
from crispr_models.benchmark import BENCHMARK_COLUMNS, run_benchmark, speedups
from crispr_models.settings import SAMPLERS

#: Real sampling or many kernels: in make test, not in make test-fast.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table():
    return run_benchmark(["m1"], draws=300, tune=300, chains=2, seed=5)


def test_one_row_per_engine_with_every_column(table):
    assert list(table.columns) == BENCHMARK_COLUMNS
    assert list(table["sampler"]) == list(SAMPLERS)
    assert (table["chapter"] == "m1").all()
    assert (table[["chains", "tune", "draws", "seed"]] == [2, 300, 300, 5]).all().all()
    assert table.attrs["cpus"] >= 1


def test_times_and_ess_are_consistent(table):
    assert (table["sampling_seconds"] > 0).all()
    assert (table["compile_seconds"] >= 0).all()
    np.testing.assert_allclose(
        table["total_seconds"], table["compile_seconds"] + table["sampling_seconds"]
    )
    # m1 is easy: every engine converges and yields draws worth the name.
    assert (table["divergences"] == 0).all()
    assert (table["max_r_hat"] <= 1.01).all()
    assert (table["min_ess_bulk"] > 100).all()
    np.testing.assert_allclose(
        table["ess_per_second_sampling"], table["min_ess_bulk"] / table["sampling_seconds"]
    )
    assert (table["ess_per_second_total"] <= table["ess_per_second_sampling"]).all()


def test_speedups_are_relative_to_pymc(table):
    ratios = speedups(table)
    assert ratios[("ess_per_second_sampling", "pymc")].loc["m1"] == pytest.approx(1.0)
    assert ratios.index.tolist() == ["m1"]


def test_bad_names_are_refused_before_any_fit():
    with pytest.raises(ValueError, match="chapter must be one of"):
        run_benchmark(["m99"])
    with pytest.raises(ValueError, match="sampler must be one of"):
        run_benchmark(["m1"], ["stan"])
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        run_benchmark(["m1"], draws=0)


def test_script_writes_the_csv(tmp_path):
    out = tmp_path / "bench.csv"
    script = REPO_ROOT / "benchmarks" / "sampler_benchmark.py"
    command = [sys.executable, str(script), "--models", "m1", "--samplers", "nutpie"]
    result = subprocess.run(
        [*command, "--draws", "200", "--tune", "200", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = pd.read_csv(out)
    assert list(written.columns) == BENCHMARK_COLUMNS
    assert len(written) == 1
    refused = subprocess.run([*command, "--chains", "0"], capture_output=True, text=True)
    assert refused.returncode == 2
    assert "chains must be a positive integer" in refused.stderr
