"""Convergence checks and recovery of the true parameter values."""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from crispr_models.core.input_checks import check_choice

HDI_PROB = 0.94
#: ArviZ 1's names for the bounds of the 94 % HDI in its summary.
HDI_LOWER, HDI_UPPER = "hdi94_lb", "hdi94_ub"
#: Vehtari et al. (2021): r-hat below 1.01 and bulk/tail ESS above 100 per chain.
R_HAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100

SUMMARY_COLUMNS = [
    "fit",
    "parameter",
    "mean",
    "sd",
    HDI_LOWER,
    HDI_UPPER,
    "r_hat",
    "ess_bulk",
    "ess_tail",
    "true_value",
    "hdi_covers_truth",
    "status",
]

#: ``status`` of a fit in ``summary.csv``, and what its report says of it.
#: Only ``use`` fits are models to use; the others are shown for what they
#: teach, and only ``pathological`` ones are fitted short (``short_draws``).
FIT_STATUSES = {
    "use": "",
    "pathological": "pathological: the sampler fails on it, which is the point; run short",
    "other_question": "it answers another question than the chapter asks",
    "structural_flaw": "its structure cannot represent how the data arose",
}


class ConvergenceError(RuntimeError):
    """Raised by :meth:`ConvergenceReport.require` when a check fails."""


@dataclass(frozen=True)
class ConvergenceReport:
    """Divergences, worst r-hat and lowest ESS against their thresholds."""

    divergences: int
    max_r_hat: float
    worst_r_hat_parameter: str
    min_ess_bulk: float
    min_ess_tail: float
    worst_ess_parameter: str
    ess_min: float
    r_hat_max: float = R_HAT_MAX
    max_divergences: int = 0
    #: The fit's :data:`FIT_STATUSES` label.
    status: str = "use"

    @property
    def checks(self) -> pd.DataFrame:
        """One row per check: value, threshold, pass/fail."""
        rows = [
            (
                "divergences",
                self.divergences,
                f"<= {self.max_divergences}",
                self.divergences <= self.max_divergences,
            ),
            (
                f"max r-hat ({self.worst_r_hat_parameter})",
                self.max_r_hat,
                f"<= {self.r_hat_max}",
                self.max_r_hat <= self.r_hat_max,
            ),
            (
                f"min bulk ESS ({self.worst_ess_parameter})",
                self.min_ess_bulk,
                f">= {self.ess_min:g}",
                self.min_ess_bulk >= self.ess_min,
            ),
            (
                "min tail ESS",
                self.min_ess_tail,
                f">= {self.ess_min:g}",
                self.min_ess_tail >= self.ess_min,
            ),
        ]
        return pd.DataFrame(rows, columns=["check", "value", "threshold", "passed"])

    @property
    def passed(self) -> bool:
        return bool(self.checks["passed"].all())

    def require(self) -> None:
        """Raise :class:`ConvergenceError` listing the failed checks."""
        failed = self.checks.loc[~self.checks["passed"]]
        if not failed.empty:
            lines = [f"{r.check} = {r.value:g} (needs {r.threshold})" for r in failed.itertuples()]
            raise ConvergenceError("sampler did not converge: " + "; ".join(lines))

    @property
    def verdict(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        if self.status != "use":
            verdict += f" ({FIT_STATUSES[self.status]}; not a model to use)"
        return f"Convergence {verdict}"

    def _repr_html_(self) -> str:
        return f"<p><b>{self.verdict}</b></p>" + self.checks.to_html(index=False)

    def __str__(self) -> str:
        return f"{self.verdict}\n{self.checks.to_string(index=False)}"


def _parameter_names(idata: xr.DataTree, var_names: list[str] | None) -> list[str]:
    return var_names or list(idata.posterior.data_vars)


def convergence_report(
    idata: xr.DataTree,
    var_names: list[str] | None = None,
    *,
    r_hat_max: float = R_HAT_MAX,
    ess_per_chain_min: float = ESS_PER_CHAIN_MIN,
    max_divergences: int = 0,
    status: str = "use",
) -> ConvergenceReport:
    """Check divergences, rank-normalised r-hat and bulk/tail ESS.

    The ESS threshold scales with the number of chains (100 per chain), so a
    quick two-chain run and a full four-chain run are held to the same
    standard per chain. ``status`` (:data:`FIT_STATUSES`) labels a variant
    shown for what it teaches, so the report says it is not one to use.
    """
    check_choice("status", status, tuple(FIT_STATUSES))
    names = _parameter_names(idata, var_names)
    summary = az.summary(idata, var_names=names, kind="diagnostics", round_to="none")
    chains = idata.posterior.sizes["chain"]
    return ConvergenceReport(
        divergences=int(idata.sample_stats["diverging"].sum()),
        max_r_hat=float(summary["r_hat"].max()),
        worst_r_hat_parameter=str(summary["r_hat"].idxmax()),
        min_ess_bulk=float(summary["ess_bulk"].min()),
        min_ess_tail=float(summary["ess_tail"].min()),
        worst_ess_parameter=str(summary["ess_bulk"].idxmin()),
        ess_min=float(ess_per_chain_min * chains),
        r_hat_max=r_hat_max,
        max_divergences=max_divergences,
        status=status,
    )


def _flatten_truth(truth: dict[str, float | pd.Series]) -> pd.Series:
    """Map truth to ArviZ's row labels: ``sigma``, ``alpha[gene_A]``, ..."""
    flat = {}
    for name, value in truth.items():
        if isinstance(value, pd.Series):
            for label, element in value.items():
                flat[f"{name}[{label}]"] = float(element)
        else:
            flat[name] = float(value)
    return pd.Series(flat, dtype=float)


def recovery_table(
    idata: xr.DataTree,
    truth: dict[str, float | pd.Series],
    fit_name: str,
    var_names: list[str] | None = None,
    *,
    status: str = "use",
) -> pd.DataFrame:
    """Posterior summary with the true value and whether the 94 % HDI covers it.

    One row per parameter (vector parameters one row per element); parameters
    without a known truth get ``NaN`` and ``hdi_covers_truth = NaN``. Without
    ``var_names``, the posterior's variables that have a truth (all of them
    if none has). ``status`` says whether the fit is one to use
    (:data:`FIT_STATUSES`).
    """
    check_choice("status", status, tuple(FIT_STATUSES))
    names = var_names or [n for n in idata.posterior.data_vars if n in truth]
    summary = az.summary(
        idata,
        var_names=names or None,
        ci_prob=HDI_PROB,
        ci_kind="hdi",
        round_to="none",
    )
    true_values = _flatten_truth(truth).reindex(summary.index)
    covered = (summary[HDI_LOWER] <= true_values) & (true_values <= summary[HDI_UPPER])
    columns = ["mean", "sd", HDI_LOWER, HDI_UPPER, "r_hat", "ess_bulk", "ess_tail"]
    table = summary[columns].assign(
        true_value=true_values,
        hdi_covers_truth=covered.where(true_values.notna()).astype(object),
        status=status,
    )
    table = table.rename_axis("parameter").reset_index()
    table.insert(0, "fit", fit_name)
    return table[SUMMARY_COLUMNS]


def coverage_counts(table: pd.DataFrame) -> tuple[int, int]:
    """(covered, known): true values inside their HDI, and parameters with a truth."""
    known = table["hdi_covers_truth"].dropna()
    return int(known.astype(bool).sum()), len(known)


def coverage(table: pd.DataFrame) -> float:
    """Share of parameters with a known truth whose HDI covers it."""
    covered, known = coverage_counts(table)
    return covered / known if known else np.nan


def least_squares_by_gene(observations: pd.DataFrame) -> pd.DataFrame:
    """Each gene's own least-squares intercept and RNA slope, no pooling.

    The yardstick for a hierarchical fit: where the posterior misses a true
    value but agrees with this, the miss is in the simulated data, not the
    model.
    """
    rows = []
    for gene, group in observations.groupby("gene", observed=True):
        slope, intercept = np.polyfit(group["rna"], group["logfc"], deg=1)
        rows.append({"gene": gene, "alpha": intercept, "beta": slope})
    return pd.DataFrame(rows).set_index("gene")


def coverage_summary(table: pd.DataFrame) -> str:
    """How many known true values the 94 % HDIs cover, in words."""
    covered, known = coverage_counts(table)
    return f"94 % HDI covers the truth for {covered} of {known} parameters ({coverage(table):.0%})"


def fit_summary(report: ConvergenceReport, table: pd.DataFrame) -> str:
    """One line with the figures each chapter reports for its model."""
    return (
        f"{report.divergences} divergences, max r-hat {report.max_r_hat:.3f}, "
        f"min bulk ESS {report.min_ess_bulk:.0f}, min tail ESS {report.min_ess_tail:.0f}, "
        f"{coverage_summary(table)}"
    )


def sampling_efficiency(idata: xr.DataTree, var_names: list[str] | None = None) -> dict:
    """What a fit cost and what it bought: the convergence checks, ESS per second.

    ``ess_per_second`` divides the lowest bulk ESS by the sampling seconds
    (compilation excluded), the usual yardstick for comparing
    parameterisations of one model on one engine; ``converged`` is the
    :func:`convergence_report` verdict on the same parameters.
    """
    report = convergence_report(idata, var_names)
    seconds = float(idata.posterior.attrs["sampling_time"])
    stats = idata.sample_stats
    depth = stats["tree_depth"] if "tree_depth" in stats else stats["depth"]
    return {
        "divergences": report.divergences,
        "max_r_hat": report.max_r_hat,
        "min_ess_bulk": report.min_ess_bulk,
        "max_tree_depth": int(depth.max()),
        "sampling_seconds": seconds,
        "ess_per_second": report.min_ess_bulk / seconds if seconds > 0 else np.nan,
        "converged": report.passed,
    }


def posterior_draws(idata: xr.DataTree, names: list[str]) -> pd.DataFrame:
    """Posterior draws as columns named like ArviZ rows (``alpha[gene_A]``).

    ``names`` may mix whole variables and single elements.
    """
    stacked = az.extract(idata)
    columns = {}
    for name in names:
        variable, _, label = name.partition("[")
        if variable not in stacked:
            raise ValueError(f"{variable!r} is not in the posterior ({list(stacked.data_vars)})")
        values = stacked[variable]
        if label:
            (dim,) = [d for d in values.dims if d != "sample"]
            values = values.sel({dim: label.rstrip("]")})
        if values.ndim != 1:
            raise ValueError(f"{name!r} is not a scalar; name one element, e.g. {name}[...]")
        columns[name] = values.to_numpy()
    return pd.DataFrame(columns)


def shrinkage_table(
    observations: pd.DataFrame,
    idata: xr.DataTree,
    effect: str,
    truth: pd.Series | None = None,
) -> pd.DataFrame:
    """Raw against partially pooled estimates of a group effect.

    ``effect`` is a posterior vector over one design column (``gamma`` over
    ``gene``, ``alpha`` over ``sgrna``); per group: ``size`` (its sgRNAs, or
    its rows where the group is an sgRNA), ``raw`` (the mean logFC of its
    rows, what the group alone says; cell-line effects that sum to zero
    cancel in it), ``pooled`` (the posterior mean), ``pooled_sd`` and, with
    ``truth``, ``true_value``. The hierarchy pulls small groups further.
    """
    posterior = idata.posterior[effect]
    (dim,) = [d for d in posterior.dims if d not in ("chain", "draw")]
    if dim not in observations.columns:
        raise ValueError(f"{effect!r} runs over {dim!r}, not a column of the observations")
    rows = observations.groupby(dim, observed=True)
    size = rows["sgrna"].nunique() if dim != "sgrna" and "sgrna" in observations else rows.size()
    labels = [str(v) for v in posterior[dim].to_numpy()]
    table = pd.DataFrame(
        {
            dim: labels,
            "size": size.reindex(labels).to_numpy(),
            "raw": rows["logfc"].mean().reindex(labels).to_numpy(),
            "pooled": posterior.mean(("chain", "draw")).to_numpy(),
            "pooled_sd": posterior.std(("chain", "draw")).to_numpy(),
        }
    )
    if truth is not None:
        table["true_value"] = truth.reindex(labels).to_numpy()
    return table


#: Pareto k above this: the PSIS estimate for that observation is unreliable
#: (Vehtari et al. 2024 give 0.7 for draws of the size used here).
PARETO_K_MAX = 0.7


@dataclass(frozen=True)
class LooComparison:
    """``table``: ``az.compare``'s ranking with Pareto k counts per model;
    ``pareto_k``: one row per model and observation (model, observation, pareto_k)."""

    table: pd.DataFrame
    pareto_k: pd.DataFrame
    #: Fits offered but not compared, with why (a fit that did not converge).
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def bad_k(self) -> dict[str, int]:
        """Per fit, the observations whose Pareto k exceeds :data:`PARETO_K_MAX`."""
        return {row.label: int(row.bad_pareto_k) for row in self.table.itertuples()}

    def prose_values(self, prefix: str) -> dict[str, object]:
        """The headline numbers, named for ``{glue:text}`` with ``prefix``:
        ``_best`` (the fit ranked first), ``_elpd_diff`` (the largest
        difference from it, as a positive number), ``_dse`` (that
        difference's standard error), ``_bad_k`` (observations with Pareto k
        above the limit, all fits) and ``_bad_k_by_fit`` ("7a 12, 7b 180")."""
        worst = self.table.loc[self.table["elpd_diff"].abs().idxmax()]
        return {
            f"{prefix}_best": str(self.table["label"].iloc[0]),
            f"{prefix}_elpd_diff": float(abs(worst["elpd_diff"])),
            f"{prefix}_dse": float(worst["dse"]),
            f"{prefix}_bad_k": sum(self.bad_k.values()),
            f"{prefix}_bad_k_by_fit": ", ".join(f"{k} {v}" for k, v in self.bad_k.items()),
        }

    def _repr_html_(self) -> str:
        left_out = "".join(
            f"<p>Not compared: <code>{html.escape(label)}</code> ({html.escape(why)}).</p>"
            for label, why in self.left_out.items()
        )
        return self.table.to_html(index=False, float_format=lambda x: f"{x:.2f}") + left_out


def with_log_likelihood(model: pm.Model, idata: xr.DataTree) -> xr.DataTree:
    """A fit's posterior with its pointwise log likelihood, made on the side
    so that the saved fits stay small."""
    with model:
        log_likelihood = pm.compute_log_likelihood(
            idata, extend_inferencedata=False, progressbar=False
        )
    return xr.DataTree.from_dict(
        {"posterior": idata["posterior"].to_dataset(), "log_likelihood": log_likelihood}
    )


def _psis_loo(model: pm.Model, idata: xr.DataTree) -> az.ELPDData:
    """PSIS-LOO from a fit."""
    pointwise = with_log_likelihood(model, idata)
    with warnings.catch_warnings():
        # ArviZ warns about high Pareto k; the table reports them instead.
        warnings.simplefilter("ignore", UserWarning)
        return az.loo(pointwise, pointwise=True)


def loo_comparison(fits: dict[str, tuple[pm.Model, xr.DataTree]]) -> LooComparison:
    """PSIS-LOO comparison of models fitted to the same observations.

    ``fits`` maps a label to ``(model, idata)``. The pointwise log likelihood
    is computed here and not stored, so the saved fits stay small. The table
    has ``az.compare``'s columns, ``elpd`` and ``p`` renamed ``elpd_loo``
    (the PSIS-LOO estimate of the expected log predictive density) and
    ``p_loo`` (the effective number of parameters), then ``rank``,
    ``elpd_diff`` (each model's elpd_loo minus the best one's, so zero or
    negative), ``se``, ``dse``, ``weight``, ``p_worse``, ``diag_diff``,
    ``diag_elpd``, plus
    ``max_pareto_k`` and ``bad_pareto_k``, the number of observations whose
    k exceeds :data:`PARETO_K_MAX`.
    """
    if not isinstance(fits, dict) or len(fits) < 2:
        raise ValueError("fits must be a dict of at least two {label: (model, idata)} entries")
    observed = None
    loos = {}
    for label, fitted in fits.items():
        if not (
            isinstance(fitted, tuple)
            and len(fitted) == 2
            and isinstance(fitted[0], pm.Model)
            and isinstance(fitted[1], xr.DataTree)
        ):
            raise TypeError(f"fits[{label!r}] must be (pymc.Model, xarray.DataTree)")
        values = fitted[1]["observed_data"]["logfc"].to_numpy()
        if observed is None:
            observed = values
        elif values.shape != observed.shape or not np.array_equal(values, observed):
            raise ValueError(f"fits[{label!r}] was fitted to other observations than the first")
        loos[label] = _psis_loo(*fitted)
    table = az.compare(loos, round_to="none")
    table["max_pareto_k"] = [float(loos[label].pareto_k.max()) for label in table.index]
    table["bad_pareto_k"] = [
        int((loos[label].pareto_k > PARETO_K_MAX).sum()) for label in table.index
    ]
    pareto_k = pd.concat(
        [
            pd.DataFrame(
                {
                    "label": label,
                    "observation": np.arange(loo.pareto_k.size),
                    "pareto_k": loo.pareto_k.to_numpy().ravel(),
                }
            )
            for label, loo in loos.items()
        ],
        ignore_index=True,
    )
    # ArviZ 1 calls them elpd and p; here they are always the LOO estimates.
    table = table.rename(columns={"elpd": "elpd_loo", "p": "p_loo"})
    table = table.rename_axis("label").reset_index()
    return LooComparison(table=table, pareto_k=pareto_k)
