"""The field's tools on a small real screen, and the noise between replicates."""

import numpy as np
import pandas as pd
import pytest

from crispr_models.screen.analysis import replicate_noise
from crispr_models.screen.data import Screen, load_crispy_screen
from crispr_models.screen.peers import (
    CRISPY,
    MAGECK_MLE,
    MAGECK_MLE_CNV,
    MAGECK_RRA,
    MAGECK_RRA_CNV,
    PeerToolError,
    _run_measured,
    crispy_correction,
    mageck_mle,
    mageck_rra,
    naive_median,
    run_peers,
)


@pytest.fixture(scope="module")
def chr17_and_chr8():
    """AU565's genes on chromosomes 17 and 8: the ERBB2 and MYC amplicons
    and enough segments for CRISPY's Gaussian process."""
    screen = load_crispy_screen()
    genes = screen.guides.loc[screen.guides["chr"].isin(["17", "8"]), "gene"].unique()
    return screen.restrict_to_genes(genes)


@pytest.mark.slow  # the peer tools run in their own processes
def test_every_peer_scores_every_gene_of_the_same_guides(chr17_and_chr8, tmp_path):
    runs = run_peers(chr17_and_chr8, tmp_path)
    assert [r.method for r in runs] == [MAGECK_RRA, MAGECK_RRA_CNV, CRISPY]
    genes = set(chr17_and_chr8.genes)
    for run in runs:
        assert set(run.scores.index) == genes and np.isfinite(run.scores).all()
        assert run.seconds > 0 and run.peak_mb > 10
        assert (tmp_path / "peers").is_dir()
    rra, rra_cnv, crispy = (r.scores for r in runs)
    assert rra.between(0, 1).all()  # RRA's scores are probabilities
    # ERBB2 (14 copies, a real dependency of AU565) is among the most depleted by
    # RRA; the copy-number corrections move the amplified passengers up
    amplified = chr17_and_chr8.gene_places()["copy_number"] >= 8
    for corrected, raw in ((rra_cnv, rra), (crispy, naive_median(chr17_and_chr8).scores)):
        assert corrected.rank(pct=True)[amplified].median() > raw.rank(pct=True)[amplified].median()
    assert rra.rank(pct=True)["ERBB2"] < 0.02
    # the book's fewer rounds of permutation leave RRA's scores as they are
    default = mageck_rra(chr17_and_chr8, tmp_path / "default_permutations")
    pd.testing.assert_series_equal(default.scores.sort_index(), rra.sort_index())


@pytest.mark.slow  # the peer tools run in their own processes
def test_crispy_subtracts_a_smooth_function_of_the_copy_number_ratio(chr17_and_chr8, tmp_path):
    run = crispy_correction(chr17_and_chr8, tmp_path)
    corrected = pd.read_csv(tmp_path / "corrected.csv")
    assert len(corrected) == len(chr17_and_chr8.guides)
    difference = corrected["fold_change"] - corrected["gp_mean"] - corrected["corrected"]
    assert np.abs(difference).max() < 1e-9
    assert run.scores["ERBB2"] == pytest.approx(
        corrected.loc[corrected["gene"] == "ERBB2", "corrected"].mean()
    )


@pytest.mark.slow  # the peer tools run in their own processes
def test_mageck_mle_gives_every_gene_a_beta(chr17_and_chr8, tmp_path):
    """MLE on the genes of chromosome 17 from 35 to 42 Mb (the ERBB2
    amplicon and its neighbours), without permutations: a beta per gene,
    ERBB2 among the most depleted, and --cnv-norm lifts the amplified
    passengers."""
    place = chr17_and_chr8.gene_places()
    window = place[(place["chr"] == "17") & place["position"].between(35e6, 42e6)]
    small = chr17_and_chr8.restrict_to_genes(window.index)
    plain = mageck_mle(small, tmp_path / "plain")
    corrected = mageck_mle(small, tmp_path / "cnv", copy_number=True)
    assert (plain.method, corrected.method) == (MAGECK_MLE, MAGECK_MLE_CNV)
    assert set(plain.scores.index) == set(window.index) and np.isfinite(plain.scores).all()
    assert plain.scores.rank(pct=True)["ERBB2"] < 0.05
    amplified = window["copy_number"] >= 8
    passengers = amplified & (window.index != "ERBB2")
    assert (
        corrected.scores.rank(pct=True)[passengers].median()
        > plain.scores.rank(pct=True)[passengers].median()
    )


def test_a_screen_without_copy_number_gets_rra_only(chr17_and_chr8, tmp_path):
    flat = Screen(
        chr17_and_chr8.guides, chr17_and_chr8.replicates, chr17_and_chr8.library_sizes, {}
    )
    with pytest.raises(ValueError, match="needs a screen with copy-number segments"):
        mageck_rra(flat, tmp_path, copy_number=True)
    with pytest.raises(ValueError, match="CRISPY needs a screen with copy-number segments"):
        crispy_correction(flat, tmp_path)


def test_a_failing_tool_is_named_with_its_output(tmp_path):
    with pytest.raises(PeerToolError, match="failed \\(3\\):\n.*boom"):
        _run_measured(["sh", "-c", "echo boom; exit 3"], tmp_path)


def _simulated_screen(rng, mean_count, squared_cv, guides=20_000):
    """Three replicates of negative-binomial counts with the given mean and
    squared extra-Poisson CV (arrays over guides), equal library sizes."""
    alpha = 1.0 / squared_cv
    counts = rng.negative_binomial(
        alpha[:, None], (alpha / (alpha + mean_count))[:, None], (guides, 3)
    )
    table = pd.DataFrame(counts, columns=["R1", "R2", "R3"])
    table["plasmid"] = np.round(mean_count).astype(int)
    table["gene"] = "g"
    sizes = pd.Series({"R1": 1.0, "R2": 1.0, "R3": 1.0, "plasmid": 1.0})
    return Screen(table, ("R1", "R2", "R3"), sizes, {})


def test_replicate_noise_tells_a_constant_cv_from_a_variance_proportional_to_the_mean():
    rng = np.random.default_rng(11)
    mean_count = np.exp(rng.uniform(np.log(30), np.log(3000), 20_000))
    constant = replicate_noise(
        _simulated_screen(rng, mean_count, np.full(20_000, 0.09)), "abundance"
    )
    # a pair's S^2 has one degree of freedom: relative sd sqrt(2) x (total
    # variance / excess), at most 1 + 1 / (0.09 x 30) = 1.37 here. Counting
    # only the 2,000 guides of a bin as independent (their three pairs share
    # counts), c^2's relative standard error is at most 0.043, c's half that:
    # every bin within 3 standard errors
    guides_per_bin = 2_000
    se_cv = 0.5 * np.sqrt(2 / guides_per_bin) * (1 + 1 / (0.09 * 30))
    assert np.allclose(constant["excess_cv"], 0.3, rtol=3 * se_cv)
    assert constant.attrs["excess_cv"] == pytest.approx(0.3, rel=0.01)
    # variance = mean x (1 + 70): 70 per read in every bin, whatever the
    # spread of means within a bin; relative sd of a pair's excess
    # sqrt(2) x 71 / 70, over 2,000 independent guides: within 3 standard errors
    proportional = replicate_noise(_simulated_screen(rng, mean_count, 70 / mean_count), "abundance")
    se_ratio = np.sqrt(2) * 71 / 70 / np.sqrt(guides_per_bin)
    assert np.allclose(proportional["variance_to_mean"], 70, rtol=3 * se_ratio)
    assert proportional["excess_cv"].is_monotonic_decreasing
    assert constant["variance_to_mean"].is_monotonic_increasing
    with pytest.raises(ValueError, match="by must be one of 'abundance', 'depletion'"):
        replicate_noise(_simulated_screen(rng, mean_count, 70 / mean_count), "replicate")
