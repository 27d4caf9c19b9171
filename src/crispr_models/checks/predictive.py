"""Posterior predictive checks that can fail: by group, and LOO-PIT.

A density overlay of all logFC against replicated data sets rarely fails: a
model that leaves out an effect widens its noise until the overall spread
matches. Checks that can fail ask a sharper question:

- **Grouped checks** compute a statistic (mean, sd) of the observed logFC of
  each gene, sgRNA or cell line and its posterior predictive p-value, the
  share of replicated data sets whose statistic is at least the observed
  one. A model that misses a group-level effect puts many groups in the
  tails. For a model that generated the data these p-values crowd towards
  0.5 (they use the data twice), so the count of groups outside
  [0.025, 0.975] stays below what a Binomial(groups, 0.05) allows; the check
  is flagged when that count is improbable under it (tail probability below
  :data:`FLAG_LEVEL`).
- **LOO-PIT** (Gabry et al. 2019): the leave-one-out predictive distribution
  of each observation evaluated at it, uniform when the predictive
  distributions are calibrated. Flagged when a Kolmogorov-Smirnov test
  rejects uniformity at :data:`FLAG_LEVEL`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from arviz_stats import loo_pit
from scipy import stats

from crispr_models.checks.diagnostics import with_log_likelihood
from crispr_models.core.input_checks import check_choice

#: Test statistics of the grouped checks. ``"trimmed_sd"`` is the sd with
#: each group's value furthest from its median left out (in the data and in
#: every replicated data set alike): where the sd check fails and it does
#: not, one outlying value per group (a guide that failed, say) is the misfit.
STATISTICS = ("mean", "sd", "trimmed_sd")
#: What the grouped checks compute unless told.
DEFAULT_STATISTICS = ("mean", "sd")
#: A check is flagged when what it saw has a probability below this under a
#: calibrated model.
FLAG_LEVEL = 0.01
#: A group's p-value is extreme outside [TAIL, 1 - TAIL].
TAIL = 0.025
#: What the "all rows" check groups by: one group holding every row.
ALL_ROWS = "all rows"


def _without_furthest(values: pd.DataFrame | pd.Series):
    """The sd of ``values`` (each column) without its value furthest from the median."""
    distance = (values - values.median()).abs()
    return values.where(distance.rank(method="first") < len(values)).std(ddof=1)


def _statistic(values: pd.DataFrame | pd.Series, groups: pd.Series, statistic: str):
    grouped = values.groupby(groups.to_numpy(), sort=True)
    if statistic == "trimmed_sd":
        return grouped.apply(_without_furthest)
    return grouped.mean() if statistic == "mean" else grouped.std(ddof=1)


def group_p_values(
    idata: xr.DataTree, data: pd.DataFrame, by: str, statistic: str = "mean"
) -> pd.DataFrame:
    """Per group of ``data[by]`` (or every row, ``by="all rows"``): the
    observed statistic of the logFC and its posterior predictive p-value.

    ``data`` holds the fitted observations in the model's row order (its
    ``logfc`` column is checked against the fit's observed data). Groups
    too small for the statistic (one row for an sd, two for a trimmed sd)
    are left out: no replicate can be compared with an undefined value.
    """
    check_choice("statistic", statistic, STATISTICS)
    if by != ALL_ROWS and by not in data.columns:
        raise ValueError(f"by must be {ALL_ROWS!r} or a column of the data ({list(data.columns)})")
    observed = idata["observed_data"]["logfc"].to_numpy()
    if len(observed) != len(data) or not np.allclose(observed, data["logfc"].to_numpy()):
        raise ValueError("data must be the fitted observations, in the model's row order")
    replicated = idata["posterior_predictive"]["logfc"].stack(sample=("chain", "draw"))
    replicated = pd.DataFrame(replicated.transpose(..., "sample").to_numpy())
    groups = pd.Series(ALL_ROWS, index=data.index) if by == ALL_ROWS else data[by].astype(str)
    observed_stat = _statistic(pd.Series(observed), groups, statistic).dropna()
    replicated_stat = _statistic(replicated, groups, statistic).loc[observed_stat.index]
    p_value = replicated_stat.ge(observed_stat, axis=0).mean(axis=1)
    return pd.DataFrame(
        {"group": observed_stat.index, "observed": observed_stat.to_numpy(), "p_value": p_value}
    ).reset_index(drop=True)


def extreme_groups_by(p_values: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """:func:`group_p_values`' groups counted by a label of each group
    (``labels``, indexed by group): how many, how many lie above nearly every
    replicate (p-value below :data:`TAIL`: for an sd, spread more than the
    model allows) and below (above 1 - TAIL: spread less)."""
    p = p_values.set_index("group")["p_value"]
    label = labels.reindex(p.index)
    if label.isna().any():
        missing = ", ".join(map(str, p.index[label.isna()][:5]))
        raise ValueError(f"labels must label every group; missing: {missing}")
    table = pd.DataFrame({"label": label, "above": p < TAIL, "below": p > 1 - TAIL})
    return table.groupby("label", sort=True, observed=True).agg(
        groups=("above", "size"), above=("above", "sum"), below=("below", "sum")
    )


def _flagged(p_values: pd.Series) -> tuple[int, bool]:
    """Extreme p-values and whether their count is improbable for a calibrated model."""
    extreme = int(((p_values < TAIL) | (p_values > 1 - TAIL)).sum())
    if len(p_values) == 1:  # one p-value: a two-sided test at FLAG_LEVEL
        p = float(p_values.iloc[0])
        return extreme, min(p, 1 - p) < FLAG_LEVEL / 2
    tail_probability = stats.binom.sf(extreme - 1, len(p_values), 2 * TAIL)
    return extreme, bool(tail_probability < FLAG_LEVEL)


def grouped_checks(
    idata: xr.DataTree,
    data: pd.DataFrame,
    by: tuple[str, ...] = ("gene", "sgrna", "cell_line"),
    statistics: tuple[str, ...] = DEFAULT_STATISTICS,
) -> pd.DataFrame:
    """Every statistic by every grouping (plus all rows together) for one fit:
    one row per check with its number of groups, of extreme p-values, of
    those where the data's statistic lies above the replicates' (``above``:
    p-value below :data:`TAIL`; for an sd, groups more spread out than the
    model allows) and whether it is flagged."""
    rows = []
    for grouping in (ALL_ROWS, *[b for b in by if b in data.columns]):
        for statistic in statistics:
            p_values = group_p_values(idata, data, grouping, statistic)["p_value"]
            extreme, flagged = _flagged(p_values)
            rows.append(
                {
                    "check": f"{statistic} of {grouping}"
                    if grouping == ALL_ROWS
                    else f"{statistic} by {grouping}",
                    "groups": len(p_values),
                    "extreme": extreme,
                    "above": int((p_values < TAIL).sum()),
                    "flagged": flagged,
                }
            )
    return pd.DataFrame(rows)


def loo_pit_values(model: pm.Model, idata: xr.DataTree) -> np.ndarray:
    """The LOO-PIT value of every observation (PSIS-weighted posterior predictive)."""
    tree = with_log_likelihood(model, idata)
    tree["posterior_predictive"] = idata["posterior_predictive"].to_dataset()
    tree["observed_data"] = idata["observed_data"].to_dataset()
    with warnings.catch_warnings():
        # high Pareto k are the LOO chapter's business, not this check's
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(loo_pit(tree, var_names="logfc")["logfc"]).ravel()


def loo_pit_check(values: np.ndarray) -> dict[str, object]:
    """Kolmogorov-Smirnov distance of LOO-PIT values from uniform, its p-value
    and whether uniformity is rejected at :data:`FLAG_LEVEL`."""
    test = stats.kstest(values, "uniform")
    return {
        "check": "LOO-PIT uniform",
        "groups": len(values),
        "ks_distance": float(test.statistic),
        "p_value": float(test.pvalue),
        "flagged": bool(test.pvalue < FLAG_LEVEL),
    }


def check_fits(
    fits: Mapping[str, tuple[pm.Model, xr.DataTree]], data: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every grouped check and LOO-PIT for each fit of the same observations.

    Returns the checks (one row per fit and check: ``fit``, ``check``,
    ``groups``, ``extreme``, ``flagged``, and for LOO-PIT ``ks_distance`` and
    ``p_value``) and the LOO-PIT values (``fit``, ``loo_pit``) for a figure.
    """
    if not fits:
        raise ValueError("fits must name at least one (model, idata) fit")
    tables, pits = [], []
    for label, (model, idata) in fits.items():
        values = loo_pit_values(model, idata)
        checks = pd.concat(
            [grouped_checks(idata, data), pd.DataFrame([loo_pit_check(values)])],
            ignore_index=True,
        )
        tables.append(checks.assign(fit=label))
        pits.append(pd.DataFrame({"fit": label, "loo_pit": values}))
    table = pd.concat(tables, ignore_index=True)
    return table[["fit", *[c for c in table.columns if c != "fit"]]], pd.concat(pits)


def flagged_checks(checks: pd.DataFrame, fit: str) -> str:
    """The checks that flagged ``fit``, in the table's order ('none' if none did)."""
    if fit not in set(checks["fit"]):
        raise ValueError(f"fit {fit!r} is not in the checks ({', '.join(checks['fit'].unique())})")
    flagged = checks[(checks["fit"] == fit) & checks["flagged"]]["check"]
    return ", ".join(flagged) or "none"


def flag_matrix(checks: pd.DataFrame) -> pd.DataFrame:
    """Checks (rows) by fits (columns): 'flagged' or 'passes', with the count
    of extreme groups where there is one."""

    def cell(row: pd.Series) -> str:
        verdict = "flagged" if row["flagged"] else "passes"
        if pd.notna(row.get("extreme")) and row["groups"] > 1:
            return f"{verdict} ({int(row['extreme'])}/{row['groups']})"
        if pd.notna(row.get("p_value")):
            return f"{verdict} (p = {row['p_value']:.2g})"
        return verdict

    labelled = checks.assign(result=checks.apply(cell, axis=1))
    matrix = labelled.pivot(index="check", columns="fit", values="result")
    return matrix.loc[checks["check"].unique(), checks["fit"].unique()]
