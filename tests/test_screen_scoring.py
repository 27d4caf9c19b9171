"""Scoring gene scores against reference genes, copy number and amplicons."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from crispr_models.screen.data import amplicons
from crispr_models.screen.scoring import (
    ESSENTIAL,
    NON_ESSENTIAL,
    amplicon_ranks,
    average_precision,
    bootstrap_separation,
    call_calibration,
    common_genes,
    depletion_percentile,
    genes_in_amplicons,
    high_copy_share,
    recall_at_false_positive_rate,
    roc_auc,
    scorecard,
    separation_by_reference,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_vectorised_metrics_equal_scikit_learns_with_ties(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random((4, 300)) < 0.3
    score = np.round(rng.normal(size=(4, 300)) + truth, 1)  # rounded: many ties
    for row in range(4):
        assert roc_auc(truth, score)[row] == pytest.approx(roc_auc_score(truth[row], score[row]))
        assert average_precision(truth, score)[row] == pytest.approx(
            average_precision_score(truth[row], score[row])
        )


def _screen_scores(rng, genes=600, essential=100, non_essential=200):
    """Gene scores where essential genes are depleted by 2 on average,
    labelled reference sets, and two methods: the score and its noisier copy."""
    index = pd.Index([f"g{i}" for i in range(genes)], name="gene")
    labels = pd.Series(np.nan, index=index, dtype=object)
    labels.iloc[:essential] = ESSENTIAL
    labels.iloc[essential : essential + non_essential] = NON_ESSENTIAL
    effect = np.where(labels == ESSENTIAL, -2.0, 0.0)
    good = pd.Series(effect + rng.normal(size=genes), index=index)
    noisy = good + pd.Series(rng.normal(scale=2.0, size=genes), index=index)
    return {"good": good, "noisy": noisy}, labels


def test_the_paired_bootstrap_gives_intervals_and_differences():
    scores, labels = _screen_scores(np.random.default_rng(3))
    table = bootstrap_separation(
        scores, labels, np.random.default_rng(4), num_bootstrap=400, against="good"
    )
    assert list(table["metric"]) == ["roc_auc", "roc_auc", "pr_auc", "pr_auc"]
    assert (table["lower"] <= table["estimate"]).all() and (
        table["estimate"] <= table["upper"]
    ).all()
    assert table.attrs == {"genes": 600, "essential": 100, "non_essential": 200}
    against_itself = table[table["method"] == "good"]
    assert (against_itself[["difference_lower", "difference_upper"]] == 0).all().all()
    noisy = table[table["method"] == "noisy"]
    # the noisy copy ranks worse, and the paired interval of the
    # difference is narrower than the sum of the two intervals' widths
    assert (noisy["difference_upper"] < 0).all()
    width = noisy["difference_upper"] - noisy["difference_lower"]
    widths = table.groupby("metric", sort=False).apply(lambda t: (t["upper"] - t["lower"]).sum())
    assert (width.to_numpy() < widths.to_numpy()).all()


def test_the_bootstrap_is_reproducible_and_refuses_an_unknown_method():
    scores, labels = _screen_scores(np.random.default_rng(3))
    first = bootstrap_separation(scores, labels, np.random.default_rng(5), num_bootstrap=50)
    again = bootstrap_separation(scores, labels, np.random.default_rng(5), num_bootstrap=50)
    pd.testing.assert_frame_equal(first, again)
    with pytest.raises(ValueError, match="against must be one of good, noisy"):
        bootstrap_separation(scores, labels, np.random.default_rng(5), against="mageck")


def test_methods_are_compared_on_the_genes_every_one_scores():
    scores, labels = _screen_scores(np.random.default_rng(3))
    scores["partial"] = scores["good"].iloc[50:].copy()
    scores["partial"].iloc[0] = np.nan
    assert len(common_genes(scores)) == 600 - 50 - 1
    table = separation_by_reference(
        scores, {"set": labels}, np.random.default_rng(0), num_bootstrap=20
    )
    assert set(table["reference"]) == {"set"} and (table["essential"] == 100 - 51).all()


def test_recall_at_a_false_positive_rate_uses_the_non_essential_quantile():
    index = pd.Index([f"g{i}" for i in range(30)])
    labels = pd.Series([ESSENTIAL] * 10 + [NON_ESSENTIAL] * 20, index=index)
    # non-essential scores 0..19: the 10 % quantile is 1.9; essential at -5..4
    scores = pd.Series(list(range(-5, 5)) + list(range(20)), index=index, dtype=float)
    assert recall_at_false_positive_rate(scores, labels, 0.10) == pytest.approx(0.7)


def test_percentiles_and_the_share_of_amplified_genes_at_the_top():
    scores = pd.Series(np.arange(100.0), index=[f"g{i}" for i in range(100)])
    percentile = depletion_percentile(scores)
    assert percentile.iloc[0] == 0 and percentile.iloc[-1] == 1
    copy_number = pd.Series(2.0, index=scores.index)
    copy_number.iloc[[0, 1, 50, 99]] = 8.0  # two of four amplified genes in the top 5 %
    assert high_copy_share(scores, copy_number) == pytest.approx(0.5)
    assert np.isnan(high_copy_share(scores, pd.Series(2.0, index=scores.index)))


SEGMENTS = pd.DataFrame(
    {
        "Chr": ["8", "8", "8", "8", "17", "3"],
        "Start": [1_000_000, 3_000_000, 4_000_000, 20_000_000, 100, 0],
        "End": [2_000_000, 3_900_000, 5_000_000, 21_000_000, 900, 10_000],
        "copy_number": [9, 4, 12, 8, 14, 2],
    }
)


def test_amplicons_merge_nearby_high_segments():
    found = amplicons(SEGMENTS)
    assert list(found["amplicon"]) == ["chr17:0.0-0.0 Mb", "chr8:1.0-5.0 Mb", "chr8:20.0-21.0 Mb"]
    assert list(found["max_copies"]) == [14, 12, 8]
    assert amplicons(None).empty


def test_amplicon_ranks_leave_out_the_drivers_and_low_copy_genes():
    place = pd.DataFrame(
        {
            "chr": ["8"] * 8,
            "position": [1.5e6, 1.6e6, 1.7e6, 3.5e6, 4.5e6, 4.6e6, 4.7e6, 30e6],
            "copy_number": [9, 9, 9, 4, 12, 12, 12, 2],
        },
        index=["DRIVER", "p1", "p2", "between", "p3", "p4", "p5", "far"],
    )
    members = genes_in_amplicons(place, amplicons(SEGMENTS))
    # the gene at 4 copies between two high segments is not a member
    assert set(members.index) == {"DRIVER", "p1", "p2", "p3", "p4", "p5"}
    scores = {"m": pd.Series(np.arange(8.0), index=place.index)}
    ranks = amplicon_ranks(scores, members, frozenset({"DRIVER"}), min_passengers=5)
    assert ranks.to_dict("records") == [
        {"method": "m", "amplicon": "chr8:1.0-5.0 Mb", "passengers": 5, "median_percentile": 4 / 7}
    ]
    assert amplicon_ranks(scores, members, frozenset(), min_passengers=7).empty


def test_call_calibration_counts_expected_and_observed_false_calls():
    effects = pd.DataFrame(
        {"prob_below": [0.99, 0.97, 0.96, 0.5, 0.01, 0.02]},
        index=["e1", "e2", "n1", "n2", "n3", "x"],
    )
    labels = pd.Series(
        [ESSENTIAL, ESSENTIAL, NON_ESSENTIAL, NON_ESSENTIAL, NON_ESSENTIAL], index=effects.index[:5]
    )
    found = call_calibration(effects, labels, 0.95)
    assert found["called"] == 3 and found["called_reference"] == 3
    assert found["expected_false"] == pytest.approx(0.01 + 0.03 + 0.04)
    assert found["expected_fdr"] == pytest.approx(0.08 / 3)
    assert found["observed_false_reference"] == 1
    assert found["non_essential_called_share"] == pytest.approx(1 / 3)
    assert found["non_essential_expected_below"] == pytest.approx(0.96 + 0.5 + 0.01)
    assert found["reference_genes"] == 5 and found["reference_uncertain"] == 1


def test_the_scorecard_has_a_row_per_method():
    scores, labels = _screen_scores(np.random.default_rng(3))
    separation = separation_by_reference(
        scores, {"set": labels}, np.random.default_rng(0), num_bootstrap=20
    )
    copy_number = pd.Series(2.0, index=scores["good"].index)
    ranks = pd.DataFrame(
        {
            "method": ["good", "noisy"],
            "amplicon": "a",
            "passengers": 5,
            "median_percentile": [0.5, 0.1],
        }
    )
    card = scorecard(scores, separation, labels, copy_number, ranks, drivers=("g0", "absent"))
    assert list(card.index) == ["good", "noisy"]
    assert list(card["amplicons in 0.25-0.75"]) == ["1 of 1", "0 of 1"]
    assert "g0 percentile" in card and "absent percentile" not in card
    assert card.loc["good", "recall at 5 % FPR"] > card.loc["noisy", "recall at 5 % FPR"]
