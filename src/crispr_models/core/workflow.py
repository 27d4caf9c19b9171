"""The standard workflow of a chapter in one call: fit, check, compare with
the truth, save.

:func:`fit_and_check` is what every model chapter does with the model it
recommends (and with the pathological variants it shows): prior predictive,
NUTS and posterior predictive draws (:func:`~crispr_models.core.fitting.fit`), the
convergence report, the recovery table against the simulated truth, and the
fit saved beside the run with its status. Chapter 1 writes the same steps out
longhand.
"""

from __future__ import annotations

import dataclasses
import html
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import pymc as pm
import xarray as xr

from crispr_models.checks.diagnostics import (
    FIT_STATUSES,
    ConvergenceReport,
    LooComparison,
    convergence_report,
    coverage_counts,
    coverage_summary,
    loo_comparison,
    recovery_table,
)
from crispr_models.core.artifacts import save_fit, save_loo_comparison
from crispr_models.core.fitting import (
    compile_seconds,
    draws_text,
    fit,
    sampling_seconds,
    timing_summary,
)
from crispr_models.core.input_checks import RandomSource, check_choice
from crispr_models.core.prose import glue_values
from crispr_models.core.registry import chapter_facts
from crispr_models.core.settings import SamplerSettings
from crispr_models.series.simulation import SimulatedData

#: Types of a parameters cell's values.
_LITERALS = (bool, int, float, str, tuple, list, type(None))


@dataclass(frozen=True)
class CheckedFit:
    """A fit with its convergence report and its recovery table.

    Displayed in a notebook it shows the timing line, the convergence checks,
    how many true values the 94 % intervals cover and, folded, the recovery
    table.
    """

    name: str
    model: pm.Model
    idata: xr.DataTree
    report: ConvergenceReport
    table: pd.DataFrame
    status: str

    @property
    def covered(self) -> int:
        """True values inside their 94 % HDI."""
        return coverage_counts(self.table)[0]

    @property
    def known(self) -> int:
        """Parameters with a known true value."""
        return coverage_counts(self.table)[1]

    @property
    def misses(self) -> pd.DataFrame:
        """Rows whose 94 % HDI misses the truth."""
        return self.table[self.table["hdi_covers_truth"].eq(False)]

    @property
    def coverage_line(self) -> str:
        return coverage_summary(self.table)

    @property
    def timing(self) -> str:
        return timing_summary(self.idata)

    @property
    def compile_seconds(self) -> float:
        return compile_seconds(self.idata)

    @property
    def sampling_seconds(self) -> float:
        return sampling_seconds(self.idata)

    @property
    def draws_text(self) -> str:
        return draws_text(self.idata)

    def recovery(self) -> pd.DataFrame:
        """The recovery table to show: one row per parameter, rounded."""
        return self.table.drop(columns=["fit", "status"]).round(3)

    def _repr_html_(self) -> str:
        recovery = self.recovery()
        return (
            f"<p><code>{html.escape(self.name)}</code>: {html.escape(self.timing)}</p>"
            + self.report._repr_html_()
            + f"<p>{html.escape(self.coverage_line)}</p>"
            + f"<details><summary>Recovery table ({len(recovery)} parameters)</summary>"
            + recovery.to_html(index=False)
            + "</details>"
        )

    def __repr__(self) -> str:
        return f"{self.name}: {self.timing}\n{self.report}\n{self.coverage_line}"


def fit_and_check(
    model: pm.Model,
    rng: RandomSource,
    settings: SamplerSettings,
    *,
    name: str,
    truth: Mapping[str, object],
    var_names: list[str] | None = None,
    artifacts_dir: str | None = None,
    status: str = "use",
) -> CheckedFit:
    """Fit ``model``, check it, compare it with ``truth`` and save it as ``name``.

    A fit with ``status="use"`` must pass every convergence check: otherwise
    :class:`~crispr_models.checks.diagnostics.ConvergenceError` is raised, naming the
    failed checks, and nothing is saved. A fit with another status
    (:data:`~crispr_models.checks.diagnostics.FIT_STATUSES`: ``pathological``,
    ``other_question``, ``structural_flaw``) is saved with it whatever its
    checks say.
    ``var_names`` are the parameters checked and tabulated (default: those
    with a truth). ``artifacts_dir`` empty (an interactive session) saves
    nothing.
    """
    check_choice("status", status, tuple(FIT_STATUSES))
    idata = fit(model, rng, settings)
    names = var_names or [v for v in idata.posterior.data_vars if v in truth]
    report = convergence_report(idata, names, status=status)
    if status == "use":
        report.require()
    table = recovery_table(idata, truth, name, names, status=status)
    save_fit(artifacts_dir, name, idata, table)
    return CheckedFit(name, model, idata, report, table, status)


@dataclass(frozen=True)
class Experiment:
    """One run of a chapter: its id, generator, sampler settings and
    artifacts folder, so each fit is one short call.

    ``Experiment.from_parameters("m4", rng, globals())`` takes the sampler
    settings the registry keeps for the chapter and any a run overrides
    (``-p draws 500`` defines ``draws`` in the chapter's namespace), and the
    chapter's ``artifacts_dir``.
    """

    chapter: str
    rng: RandomSource
    settings: SamplerSettings
    artifacts_dir: str = ""
    #: The chapter's parameters (the literal values of its namespace).
    parameters: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def from_parameters(
        cls, chapter: str, rng: RandomSource, namespace: Mapping[str, object]
    ) -> Experiment:
        return cls(
            chapter,
            rng,
            SamplerSettings.from_parameters(namespace, chapter_facts(chapter).sampling),
            str(namespace.get("artifacts_dir", "") or ""),
            {k: v for k, v in namespace.items() if isinstance(v, _LITERALS) and k[0] != "_"},
        )

    def simulate(
        self, simulate: Callable[..., SimulatedData], rng: RandomSource | None = None, **given
    ) -> SimulatedData:
        """``simulate(rng, ...)`` with each of its arguments that the chapter's
        parameters set: ``x`` from the parameter ``true_x`` (a true value) or
        ``x`` (a design setting such as ``num_cell_lines``); ``given`` wins.
        A ``true_x`` parameter that ``simulate`` has no argument for is
        refused: the reader who set it would read a run that ignored it."""
        accepted = list(inspect.signature(simulate).parameters)[1:]
        unused = [
            key for key in self.parameters if key.startswith("true_") and key[5:] not in accepted
        ]
        if unused:
            raise ValueError(
                f"{', '.join(unused)}: {simulate.__name__} has no such argument, so the "
                f"value would be ignored; its arguments, each set by a parameter named "
                f"true_<argument> or <argument>: {', '.join(accepted) or 'none'}"
            )
        arguments = {}
        for name in accepted:
            for key in (f"true_{name}", name):
                if key in self.parameters:
                    arguments[name] = self.parameters[key]
                    break
        return simulate(self.rng if rng is None else rng, **{**arguments, **given})

    def fit(
        self,
        model: pm.Model,
        name: str,
        truth: Mapping[str, object],
        var_names: list[str] | None = None,
        *,
        status: str = "use",
    ) -> CheckedFit:
        """:func:`fit_and_check` with this run's generator, settings and folder;
        a pathological fit runs short (``short_draws``) when the chapter sets it:
        its sampler fails however long it runs."""
        settings = self.settings.short() if status == "pathological" else self.settings
        return fit_and_check(
            model,
            self.rng,
            settings,
            name=name,
            truth=truth,
            var_names=var_names,
            artifacts_dir=self.artifacts_dir,
            status=status,
        )

    def compare_by_loo(self, fits: Mapping[str, CheckedFit]) -> LooComparison:
        """PSIS-LOO comparison of the fits to the same data that converged,
        labelled by the keys of ``fits``: a fit that failed its convergence
        checks is left out (its draws do not represent its posterior, so
        neither would its ``elpd_loo``) and named in the result. Saved beside
        the run for the model-comparison chapter, and its headline numbers
        glued for the prose under the chapter's id (``m4_elpd_diff``,
        ``m4_dse``, ``m4_bad_k``, ...; see
        :meth:`~crispr_models.checks.diagnostics.LooComparison.prose_values`).
        Refuses fewer than two converged fits."""
        converged = {label: f for label, f in fits.items() if f.report.passed}
        left_out = {
            label: f"did not converge: {f.report.verdict.removeprefix('Convergence ')}"
            for label, f in fits.items()
            if label not in converged
        }
        if len(converged) < 2:
            raise ValueError(
                "PSIS-LOO compares fits that converged; fewer than two did "
                f"(left out: {', '.join(left_out) or 'none'})"
            )
        comparison = loo_comparison({label: (f.model, f.idata) for label, f in converged.items()})
        comparison = dataclasses.replace(comparison, left_out=left_out)
        save_loo_comparison(self.artifacts_dir, self.chapter, comparison)
        glue_values(**comparison.prose_values(self.chapter))
        return comparison

    def _repr_html_(self) -> str:
        s = self.settings
        return (
            f"<p>Sampler: {s.sampler}, {s.chains} chains x ({s.tune} warm-up + {s.draws}) "
            f"draws, <code>target_accept = {s.target_accept}</code>, {s.prior_draws} prior "
            "predictive draws (change any with <code>-p</code>, e.g. "
            "<code>-p draws 500</code>).</p>"
        )

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"{self.chapter}: {s.sampler}, {s.chains} chains x ({s.tune} + {s.draws}) draws, "
            f"target_accept {s.target_accept}"
        )
