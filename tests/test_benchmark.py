"""The sampler benchmark on one small model: shape and sanity, not speed."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO_ROOT
from crispr_models.checks.benchmark import (
    BENCHMARK_COLUMNS,
    run_benchmark,
    speedups,
    summarise_benchmark,
)
from crispr_models.core.settings import SAMPLERS

#: Real sampling or many kernels: in make test, not in make test-fast.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table():
    # 2 x 1000 draws: enough for the r-hat < 1.01 rule to be a fair test
    return run_benchmark(["m1"], draws=1000, tune=500, chains=2, seed=5, repeats=2)


def test_one_row_per_engine_and_repeat_with_every_column(table):
    assert list(table.columns) == BENCHMARK_COLUMNS
    assert list(table["sampler"]) == [s for s in SAMPLERS for _ in range(2)]
    assert list(table["repeat"]) == [0, 1] * len(SAMPLERS)
    # repeat r seeds every engine alike with seed + r
    assert list(table["seed"]) == [5, 6] * len(SAMPLERS)
    assert (table["chapter"] == "m1").all()
    assert (table[["chains", "tune", "draws"]] == [2, 500, 1000]).all().all()
    assert table.attrs["cpus"] >= 1


def test_numpyro_runs_its_chains_in_parallel(table):
    # the book splits the CPU into one JAX device per core before JAX starts
    assert table.attrs["jax_devices"] >= 2
    assert table["parallel_chains"].all()


def test_numpyro_sampling_excludes_jax_compilation(table):
    # JAX compiles numpyro's sampler at its first call: seconds, against a
    # loop of 1500 draws on a one-parameter model that takes a fraction of one.
    numpyro = table[table["sampler"] == "numpyro"]
    assert (numpyro["compile_seconds"] > 5 * numpyro["sampling_seconds"]).all()


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


def test_summary_gives_median_and_range_over_repeats(table):
    summary = summarise_benchmark(table).set_index("sampler")
    assert (summary["repeats"] == 2).all()
    for sampler in SAMPLERS:
        fits = table.loc[table["sampler"] == sampler, "sampling_seconds"]
        row = summary.loc[sampler]
        assert row["sampling_seconds_median"] == pytest.approx(fits.median())
        assert row["sampling_seconds_low"] == fits.min()
        assert row["sampling_seconds_high"] == fits.max()
        divergences = table.loc[table["sampler"] == sampler, "divergences"].sum()
        assert row["divergences"] == divergences


def test_speedups_pair_each_repeat_with_pymc(table):
    ratios = speedups(table)
    assert ratios.loc[("m1", "pymc")].to_numpy() == pytest.approx(1.0)
    assert ratios.index.get_level_values("chapter").unique().tolist() == ["m1"]
    per_repeat = (
        table[table["sampler"] == "nutpie"].set_index("repeat")["ess_per_second_sampling"]
        / table[table["sampler"] == "pymc"].set_index("repeat")["ess_per_second_sampling"]
    )
    nutpie = ratios.loc[("m1", "nutpie")]
    assert nutpie["ess_per_second_sampling_median"] == pytest.approx(per_repeat.median())
    assert nutpie["ess_per_second_sampling_low"] == pytest.approx(per_repeat.min())


def test_bad_names_are_refused_before_any_fit():
    with pytest.raises(ValueError, match="chapter must be one of"):
        run_benchmark(["m99"])
    with pytest.raises(ValueError, match="sampler must be one of"):
        run_benchmark(["m1"], ["stan"])
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        run_benchmark(["m1"], draws=0)
    with pytest.raises(ValueError, match="repeats must be a positive integer"):
        run_benchmark(["m1"], repeats=0)


def test_script_writes_the_csv(tmp_path):
    out = tmp_path / "bench.csv"
    script = REPO_ROOT / "benchmarks" / "sampler_benchmark.py"
    command = [sys.executable, str(script), "--models", "m1", "--samplers", "nutpie"]
    result = subprocess.run(
        [*command, "--draws", "200", "--tune", "200", "--repeats", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = pd.read_csv(out)
    assert list(written.columns) == BENCHMARK_COLUMNS
    assert list(written["repeat"]) == [0, 1]
    assert "sampling_seconds_median" in result.stdout
    refused = subprocess.run([*command, "--chains", "0"], capture_output=True, text=True)
    assert refused.returncode == 2
    assert "chains must be a positive integer" in refused.stderr
