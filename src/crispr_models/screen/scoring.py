"""Scoring a screen's gene scores against what is known, method by method.

Every function takes gene scores as a ``pandas.Series`` indexed by gene,
**lower meaning more depleted** (a fold change, a posterior mean, MAGeCK's
RRA score), so that the book's model and the field's tools are scored by
the same code on the same genes:

- the reference sets as labels of the screened genes (:func:`reference_labels`);
- separation of reference essential from non-essential genes, ROC and
  precision-recall AUC with paired bootstrap intervals
  (:func:`bootstrap_separation`), and recall at a fixed false-positive rate
  on the non-essential genes (:func:`recall_at_false_positive_rate`);
- copy-number bias: the share of amplified genes among the most depleted
  (:func:`high_copy_share`), and where the genes of each focal amplicon rank
  (:func:`genes_in_amplicons`, :func:`amplicon_ranks`);
- the calibration of a posterior's essentiality calls (:func:`call_calibration`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import precision_recall_curve, roc_curve

from crispr_models.core.input_checks import (
    RandomSource,
    check_positive_int,
    check_probability,
    check_rng,
)

#: Reference-set labels (:func:`reference_labels`).
ESSENTIAL, NON_ESSENTIAL = "essential", "non-essential"


def reference_labels(genes: pd.Index, essential: frozenset, non_essential: frozenset) -> pd.Series:
    """Each screened gene in a reference set: essential, non-essential or NaN
    (a gene in both sets counts as essential)."""
    labels = pd.Series(np.nan, index=genes, dtype=object, name="reference")
    labels[genes.isin(list(non_essential))] = NON_ESSENTIAL
    labels[genes.isin(list(essential))] = ESSENTIAL
    return labels


def common_genes(scores: dict[str, pd.Series]) -> pd.Index:
    """The genes every method scores (with a finite score): methods are
    compared on these only."""
    genes = None
    for values in scores.values():
        finite = values.index[np.isfinite(values.to_numpy(dtype=float))]
        genes = finite if genes is None else genes.intersection(finite)
    return pd.Index(sorted(genes), name="gene")


def depletion_percentile(scores: pd.Series) -> pd.Series:
    """Each gene's rank among the scored genes, from 0 (the most depleted)
    to 1 (the least); ties share their mean rank."""
    ranks = scores.rank(method="average")
    return (ranks - 1.0) / max(len(scores) - 1, 1)


def _labelled(scores: pd.Series, reference: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The reference genes among ``scores``: essential or not, and minus the
    score (higher then means more essential, as the metrics expect)."""
    labels = reference.reindex(scores.index)
    known = labels.isin([ESSENTIAL, NON_ESSENTIAL]).to_numpy()
    truth = (labels[known] == ESSENTIAL).to_numpy()
    if truth.all() or not truth.any():
        raise ValueError(
            "the scored genes must include essential and non-essential reference genes"
        )
    return truth, -scores.to_numpy(dtype=float)[known]


def roc_auc(truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``score`` (higher: more likely essential)
    against each row of ``truth`` (booleans), ties counted half, as
    scikit-learn's ``roc_auc_score``: the Mann-Whitney statistic."""
    truth, score = np.atleast_2d(truth), np.atleast_2d(score)
    ranks = rankdata(score, axis=1)
    positives = truth.sum(axis=1)
    negatives = truth.shape[1] - positives
    rank_sum = np.sum(ranks * truth, axis=1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def average_precision(truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Average precision (the area under the precision-recall curve) of each
    row, as scikit-learn's ``average_precision_score``: the precision at each
    distinct threshold, weighted by the recall it adds (tied scores form one
    threshold)."""
    truth, score = np.atleast_2d(truth), np.atleast_2d(score)
    order = np.argsort(-score, axis=1, kind="stable")
    ranked = np.take_along_axis(score, order, axis=1)
    hits = np.take_along_axis(truth, order, axis=1)
    size = ranked.shape[1]
    # each position's threshold ends where the next score differs
    last_of_tie = np.ones_like(ranked, dtype=bool)
    last_of_tie[:, :-1] = ranked[:, :-1] != ranked[:, 1:]
    ends = np.where(last_of_tie, np.arange(size), size)
    ends = np.minimum.accumulate(ends[:, ::-1], axis=1)[:, ::-1]
    true_positives = np.cumsum(hits, axis=1)
    precision_at_end = np.take_along_axis(true_positives, ends, axis=1) / (ends + 1)
    return np.sum(precision_at_end * hits, axis=1) / hits.sum(axis=1)


#: What :func:`bootstrap_separation` measures, by name.
SEPARATION_METRICS = {"roc_auc": roc_auc, "pr_auc": average_precision}


def bootstrap_separation(
    scores: dict[str, pd.Series],
    reference: pd.Series,
    rng: RandomSource,
    *,
    num_bootstrap: int = 1000,
    against: str | None = None,
) -> pd.DataFrame:
    """ROC AUC and PR AUC (average precision) of each method's scores
    separating the essential from the non-essential reference genes, with
    95 % percentile intervals from a **paired** bootstrap: each resample
    draws the essential and the non-essential genes with replacement (their
    numbers kept) and scores every method on the same genes, so that the
    difference of two methods has its own interval. With ``against`` (one
    of the methods), each row also gives its difference to that method and
    the interval of the difference. Scores are compared on
    :func:`common_genes`; ``attrs`` hold how many genes of each kind."""
    rng = check_rng(rng)
    num_bootstrap = check_positive_int("num_bootstrap", num_bootstrap)
    if against is not None and against not in scores:
        raise ValueError(f"against must be one of {', '.join(scores)}, got {against!r}")
    genes = common_genes(scores)
    labelled = {m: _labelled(s.reindex(genes), reference) for m, s in scores.items()}
    truth = next(iter(labelled.values()))[0]
    positives, negatives = np.flatnonzero(truth), np.flatnonzero(~truth)
    resamples = np.concatenate(
        [
            rng.choice(positives, (num_bootstrap, positives.size)),
            rng.choice(negatives, (num_bootstrap, negatives.size)),
        ],
        axis=1,
    )
    rows = []
    for metric, metric_function in SEPARATION_METRICS.items():
        estimate = {m: float(metric_function(truth, s)[0]) for m, (_, s) in labelled.items()}
        boot = {
            m: metric_function(truth[resamples], s[resamples]) for m, (_, s) in labelled.items()
        }
        for method in scores:
            row = {
                "method": method,
                "metric": metric,
                "estimate": estimate[method],
                "lower": float(np.quantile(boot[method], 0.025)),
                "upper": float(np.quantile(boot[method], 0.975)),
            }
            if against is not None:
                difference = boot[method] - boot[against]
                row |= {
                    "difference": estimate[method] - estimate[against],
                    "difference_lower": float(np.quantile(difference, 0.025)),
                    "difference_upper": float(np.quantile(difference, 0.975)),
                }
            rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs |= {
        "genes": len(genes),
        "essential": int(truth.sum()),
        "non_essential": int((~truth).sum()),
    }
    return table


def essentiality_curves(scores: dict[str, pd.Series], reference: pd.Series) -> pd.DataFrame:
    """ROC and precision-recall curves of each score, long format for a figure:
    ``method``, ``curve`` (ROC or PR), ``x``, ``y``."""
    rows = []
    for method, values in scores.items():
        truth, score = _labelled(values, reference)
        fpr, tpr, _ = roc_curve(truth, score)
        precision, recall, _ = precision_recall_curve(truth, score)
        rows.append(pd.DataFrame({"method": method, "curve": "ROC", "x": fpr, "y": tpr}))
        rows.append(pd.DataFrame({"method": method, "curve": "PR", "x": recall, "y": precision}))
    return pd.concat(rows, ignore_index=True)


def recall_at_false_positive_rate(
    scores: pd.Series, reference: pd.Series, false_positive_rate: float = 0.05
) -> float:
    """The share of essential reference genes scored below the threshold
    that calls ``false_positive_rate`` of the non-essential ones: the
    threshold is the non-essential scores' quantile at that rate."""
    false_positive_rate = check_probability("false_positive_rate", false_positive_rate)
    truth, minus_score = _labelled(scores, reference)
    threshold = np.quantile(-minus_score[~truth], false_positive_rate)
    return float(np.mean(-minus_score[truth] < threshold))


def high_copy_share(
    scores: pd.Series, copy_number: pd.Series, *, min_copies: float = 6, top_share: float = 0.05
) -> float:
    """The share of the genes at ``min_copies`` or more copies that rank
    among the ``top_share`` most depleted genes: about ``top_share`` if
    copy number does not bias the scores."""
    top_share = check_probability("top_share", top_share)
    percentile = depletion_percentile(scores)
    amplified = copy_number.reindex(scores.index) >= min_copies
    if not amplified.any():
        return float("nan")
    return float((percentile[amplified] < top_share).mean())


def genes_in_amplicons(
    gene_place: pd.DataFrame, found: pd.DataFrame, *, min_copies: float = 8
) -> pd.Series:
    """The genes of ``gene_place`` (``chr``, ``position`` and ``copy_number``
    per gene) at ``min_copies`` or more copies inside one of ``found``
    (:func:`~crispr_models.screen.data.amplicons`), mapped to that amplicon's name."""
    names = pd.Series(pd.NA, index=gene_place.index, dtype=object, name="amplicon")
    amplified = gene_place["copy_number"] >= min_copies
    for row in found.itertuples():
        inside = (gene_place["chr"] == row.chr) & gene_place["position"].between(row.start, row.end)
        names[(inside & amplified).to_numpy()] = row.amplicon
    return names.dropna()


def amplicon_ranks(
    scores: dict[str, pd.Series],
    members: pd.Series,
    known_dependencies: frozenset[str],
    *,
    min_passengers: int = 5,
) -> pd.DataFrame:
    """Where each amplicon's genes rank under each method, on
    :func:`common_genes`: the median depletion percentile of its passengers
    (its genes outside ``known_dependencies``; 0.5 if copy number does not
    bias the method) for the amplicons with at least ``min_passengers`` of
    them. ``members``: gene to amplicon (:func:`genes_in_amplicons`)."""
    min_passengers = check_positive_int("min_passengers", min_passengers)
    genes = common_genes(scores)
    members = members[members.index.isin(genes)]
    passengers = members[~members.index.isin(list(known_dependencies))]
    counts = passengers.value_counts()
    kept = counts.index[counts >= min_passengers]
    rows = []
    for method, values in scores.items():
        percentile = depletion_percentile(values.reindex(genes))
        for amplicon in kept:
            inside = passengers.index[passengers == amplicon]
            rows.append(
                {
                    "method": method,
                    "amplicon": amplicon,
                    "passengers": len(inside),
                    "median_percentile": float(percentile[inside].median()),
                }
            )
    return pd.DataFrame(rows, columns=["method", "amplicon", "passengers", "median_percentile"])


def gene_percentiles(scores: dict[str, pd.Series], genes: list[str]) -> pd.DataFrame:
    """The depletion percentile of each of ``genes`` under each method (on
    :func:`common_genes`): methods as rows, genes as columns."""
    common = common_genes(scores)
    return pd.DataFrame(
        {m: depletion_percentile(s.reindex(common)).reindex(genes) for m, s in scores.items()}
    ).T


def call_calibration(
    effects: pd.DataFrame, reference: pd.Series, probability: float
) -> dict[str, float]:
    """How well a posterior's essentiality calls are calibrated, from its
    ``prob_below`` (the posterior probability of an effect below the
    threshold): the genes called (``prob_below`` at least ``probability``);
    the **expected** false discoveries, the sum of ``1 - prob_below`` over
    the called genes, and their rate; among the called genes in the
    reference sets, the expected false discoveries against the **observed**
    ones, the non-essential genes called (a lower bound: an essential gene
    can also lie above the threshold); the share of the non-essential genes
    called; the sum of ``prob_below`` over the non-essential genes, the
    number of them the model expects below the threshold (about 0 if they
    are what they are labelled); and how many reference genes are uncertain
    (``prob_below`` between 0.05 and 0.95), the only ones whose calls a
    miscalibration near the threshold could change."""
    probability = check_probability("probability", probability)
    called = effects["prob_below"] >= probability
    miss = 1.0 - effects["prob_below"]
    labels = reference.reindex(effects.index)
    in_reference = labels.isin([ESSENTIAL, NON_ESSENTIAL])
    non_essential = labels == NON_ESSENTIAL
    called_reference = called & in_reference
    return {
        "called": int(called.sum()),
        "expected_false": float(miss[called].sum()),
        "expected_fdr": float(miss[called].mean()) if called.any() else float("nan"),
        "called_reference": int(called_reference.sum()),
        "expected_false_reference": float(miss[called_reference].sum()),
        "observed_false_reference": int((called & non_essential).sum()),
        "non_essential_called_share": float(called[non_essential].mean()),
        "non_essential_expected_below": float(effects.loc[non_essential, "prob_below"].sum()),
        "reference_genes": int(in_reference.sum()),
        "reference_uncertain": int(
            (in_reference & effects["prob_below"].between(0.05, 0.95)).sum()
        ),
    }


def interval_text(row: pd.Series) -> str:
    """A row of :func:`bootstrap_separation` as ``estimate [lower, upper]``."""
    return f"{row['estimate']:.3f} [{row['lower']:.3f}, {row['upper']:.3f}]"


def difference_text(row: pd.Series) -> str:
    """A row's difference to the ``against`` method, with its interval."""
    return (
        f"{row['difference']:+.3f} [{row['difference_lower']:+.3f}, {row['difference_upper']:+.3f}]"
    )


def separation_by_reference(
    scores: dict[str, pd.Series],
    references: dict[str, pd.Series],
    rng: RandomSource,
    *,
    num_bootstrap: int = 1000,
    against: str | None = None,
) -> pd.DataFrame:
    """:func:`bootstrap_separation` against each reference set (name to
    labels), with the set's name in a ``reference`` column."""
    tables = []
    for name, reference in references.items():
        table = bootstrap_separation(
            scores, reference, rng, num_bootstrap=num_bootstrap, against=against
        )
        tables.append(
            table.assign(
                reference=name,
                essential=table.attrs["essential"],
                non_essential=table.attrs["non_essential"],
            )
        )
    return pd.concat(tables, ignore_index=True)


def scorecard(
    scores: dict[str, pd.Series],
    separation: pd.DataFrame,
    reference: pd.Series,
    copy_number: pd.Series,
    ranks: pd.DataFrame,
    drivers: tuple[str, ...] = (),
) -> pd.DataFrame:
    """One row per method, for the page: ROC and PR AUC with their
    intervals on each reference set (from :func:`separation_by_reference`),
    recall at a 5 % false-positive rate on ``reference``, the share of
    genes at six or more copies among the 5 % most depleted
    (:func:`high_copy_share`), how many amplicons' passengers rank within
    the middle half (0.25-0.75, from :func:`amplicon_ranks`) and each of
    ``drivers``' depletion percentile, all on :func:`common_genes`."""
    genes = common_genes(scores)
    card = pd.DataFrame(index=pd.Index(list(scores), name="method"))
    metric_names = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC"}
    for row in separation.itertuples():
        column = f"{metric_names[row.metric]}, {row.reference}"
        card.loc[row.method, column] = interval_text(pd.Series(row._asdict()))
    for method, values in scores.items():
        values = values.reindex(genes)
        card.loc[method, "recall at 5 % FPR"] = round(
            recall_at_false_positive_rate(values, reference), 3
        )
        card.loc[method, ">= 6 copies in top 5 %"] = round(high_copy_share(values, copy_number), 3)
        mine = ranks[ranks["method"] == method]["median_percentile"]
        if len(mine):
            card.loc[method, "amplicons in 0.25-0.75"] = (
                f"{mine.between(0.25, 0.75).sum()} of {len(mine)}"
            )
    percentiles = gene_percentiles(scores, [d for d in drivers if d in genes])
    for driver in percentiles.columns:
        card[f"{driver} percentile"] = percentiles[driver].round(3)
    return card
