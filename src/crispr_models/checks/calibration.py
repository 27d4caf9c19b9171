"""Simulation-based calibration (Talts et al. 2018) with one compiled model.

Draw parameters from the model's prior, simulate data from them through the
simulation module (:class:`~crispr_models.series.simulation.LinearPredictor`, which
indexes effects by label, not the model's code), fit, and record the rank of
each true value among (thinned) posterior draws. If the model, the
simulation and the sampler agree, every rank is uniform on ``0..L``; a wrong
prior or index in either shows. The model is compiled once by nutpie and
given each simulated data set through its ``logfc_observed`` data container;
two simulations run at a time, one chain each, so both cores stay busy
without a second warm-up per simulation.

:data:`CONTROLS` are deliberately wrong set-ups that the check must flag (a
prior scale off by two, a swapped index, a posterior too narrow or too wide),
and :func:`detection_power` says how large an error a number of simulations
can see.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from arviz_stats.ecdf_utils import get_pointwise_confidence_band, simulate_confidence_bands

from crispr_models.checks.diagnostics import _flatten_truth
from crispr_models.core.fitting import _draw_seed, _model_variable_names, _quiet_pymc
from crispr_models.core.input_checks import (
    RandomSource,
    check_positive_int,
    check_probability,
    check_rng,
)
from crispr_models.core.registry import recommended_model
from crispr_models.series.models import OBSERVED_DATA
from crispr_models.series.simulation import LinearPredictor, simulate_logfc

#: Family-wise error rate of a model's verdict (Bonferroni over its scalars).
FAMILY_ALPHA = 0.05
#: Uniform ECDFs ArviZ simulates to find a simultaneous band, and their seed
#: (fixed, so a band and every verdict read against it are reproducible). The
#: Bonferroni band of a model with ~130 scalars is the 0.9996 quantile of
#: the simulated statistic: 50,000 trials put about 20 beyond it.
BAND_TRIALS = 50_000
BAND_SEED = 20220101
#: A model whose fits diverged more often than this gets no "passes": its
#: ranks come partly from biased posteriors.
MAX_DIVERGENT_SHARE = 0.05

#: Effects as the simulation reads them (name -> scalar or Series by label),
#: and the truth ranked against the posterior.
Effects = dict[str, object]
#: A data-side error: from one prior draw's (effects, truth), the effects
#: the data are simulated from and the truth the ranks are taken against.
Perturbation = Callable[[Effects, Effects], tuple[Effects, Effects]]


@dataclass(frozen=True)
class CalibrationSettings:
    """How many simulations, and how each is fitted (one chain per simulation).

    Ranks use every ``thin``-th draw, ``L = draws // thin`` of them, so that
    the draws ranked are close to independent (autocorrelated draws make
    ranks pile up at the ends even for a correct model).
    """

    num_simulations: int = 200
    draws: int = 200
    tune: int = 200
    thin: int = 5
    target_accept: float = 0.8
    workers: int = 2

    def __post_init__(self) -> None:
        for name in ("num_simulations", "draws", "tune", "thin", "workers"):
            check_positive_int(name, getattr(self, name))
        check_probability("target_accept", self.target_accept)
        if self.draws // self.thin < 1:
            raise ValueError(
                f"draws // thin must be at least 1 (draws {self.draws}, thin {self.thin})"
            )

    @property
    def max_rank(self) -> int:
        """``L``: ranks run from 0 to L."""
        return self.draws // self.thin


@dataclass(frozen=True)
class CalibrationResult:
    """Ranks per simulation and scalar parameter, and each simulation's fit."""

    chapter: str
    settings: CalibrationSettings
    #: simulation, variable, parameter (``alpha[sg1]``), rank
    ranks: pd.DataFrame
    #: simulation, seed, divergences, min_ess_bulk, worst_ess_variable,
    #: max_tree_depth, seconds
    fits: pd.DataFrame
    compile_seconds: float
    total_seconds: float
    #: The same fits ranked with their draws scaled about their mean by each
    #: factor (``posterior_scale`` column): posteriors too narrow (< 1) or too
    #: wide (> 1), for the controls, at no extra sampling.
    scaled_ranks: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def max_rank(self) -> int:
        return self.settings.max_rank

    @property
    def divergent_share(self) -> float:
        """The share of fits with at least one divergence."""
        return float((self.fits["divergences"] > 0).mean()) if len(self.fits) else 0.0

    def at_posterior_scale(self, factor: float) -> CalibrationResult:
        """This result with the ranks of draws scaled by ``factor``."""
        chosen = self.scaled_ranks[self.scaled_ranks["posterior_scale"] == factor]
        if chosen.empty:
            raise ValueError(
                f"no ranks at posterior scale {factor}; computed: "
                f"{sorted(self.scaled_ranks.get('posterior_scale', pd.Series()).unique())}"
            )
        return dataclasses.replace(
            self, ranks=chosen.drop(columns="posterior_scale").reset_index(drop=True)
        )

    @property
    def num_simulations(self) -> int:
        return self.settings.num_simulations


def _scalars(values: xr.DataArray, name: str) -> dict[str, np.ndarray]:
    """Split a variable into scalars labelled like ArviZ (``alpha[gene_A]``)."""
    dims = [d for d in values.dims if d not in ("chain", "draw", "sample")]
    if not dims:
        return {name: values.to_numpy().reshape(values.shape)}
    labels = [values[d].to_numpy() for d in dims]
    out = {}
    for combination in itertools.product(*labels):
        label = ", ".join(str(v) for v in combination)
        out[f"{name}[{label}]"] = values.sel(dict(zip(dims, combination, strict=True))).to_numpy()
    return out


def _check_var_names(model: pm.Model, var_names: list[str]) -> list[str]:
    known = _model_variable_names(model)
    if isinstance(var_names, str) or not var_names:
        raise ValueError(f"var_names must be a non-empty list of names from {known}")
    unknown = [name for name in var_names if name not in known]
    if unknown:
        raise ValueError(f"var_names {unknown} are not in the model; accepted: {known}")
    return list(var_names)


def _rank_rows(
    ranked: xr.Dataset, truth: Effects, var_names: list[str], scale: float = 1.0
) -> list[tuple[str, str, int]]:
    """(variable, parameter, rank): how many ranked draws fall below the truth,
    with the draws first scaled by ``scale`` about their mean."""
    rows = []
    for name in var_names:
        true = _flatten_truth({name: truth[name]})
        for parameter, draws in _scalars(ranked[name], name).items():
            draws = draws.mean() + scale * (draws - draws.mean()) if scale != 1.0 else draws
            rows.append((name, parameter, int(np.sum(draws < true[parameter]))))
    return rows


def _effects(draw: xr.Dataset) -> Effects:
    """One prior draw as the simulation reads effects: scalars, and vectors as
    Series indexed by their dimension's labels (``gene``, ``sgrna``, ...)."""
    effects: Effects = {}
    for name, values in draw.data_vars.items():
        if values.ndim == 0:
            effects[name] = float(values)
        elif values.ndim == 1:
            dim = values.dims[0]
            index = pd.Index([str(v) for v in values[dim].to_numpy()], name=dim)
            effects[name] = pd.Series(values.to_numpy().astype(float), index=index, name=name)
    return effects


def _fit_record(idata: xr.DataTree, var_names: list[str]) -> dict:
    """Divergences, lowest bulk ESS (and whose) and deepest tree of one fit."""
    ess = az.ess(idata, var_names=var_names)
    lowest = {name: float(ess[name].min()) for name in var_names}
    worst = min(lowest, key=lowest.get)
    stats = idata.sample_stats
    return {
        "divergences": int(stats["diverging"].sum()),
        "min_ess_bulk": lowest[worst],
        "worst_ess_variable": worst,
        "max_tree_depth": int(stats["depth"].max()),
    }


def simulation_based_calibration(
    model: pm.Model,
    rng: RandomSource,
    var_names: list[str],
    settings: CalibrationSettings | None = None,
    *,
    design: pd.DataFrame,
    predictor: LinearPredictor,
    chapter: str = "",
    perturb: Perturbation | None = None,
    posterior_scales: tuple[float, ...] = (),
) -> CalibrationResult:
    """Run SBC on ``model`` for the parameters in ``var_names``.

    ``model`` was built on ``design`` (its covariates, genes, sgRNAs and cell
    lines are kept); each simulation draws every parameter from the model's
    prior and simulates the logFC through ``predictor`` from the design,
    then fits the model to it. ``perturb`` makes a control: it changes the
    effects the data are simulated from, or the truth ranked, so that the
    model no longer matches the data. ``posterior_scales`` also rank each
    fit's draws scaled about their mean (``result.at_posterior_scale``).
    ``rng`` seeds the prior draws, the data and every simulation's sampler,
    so the same generator state gives the same ranks, whatever the order the
    threads finish in.
    """
    import nutpie

    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}")
    if OBSERVED_DATA not in model.named_vars:
        raise ValueError(
            f"model has no data container {OBSERVED_DATA!r}; "
            "build it with crispr_models.series.models"
        )
    rng = check_rng(rng)
    settings = settings or CalibrationSettings()
    var_names = _check_var_names(model, var_names)
    observed_rows = len(model[OBSERVED_DATA].get_value())
    if not isinstance(design, pd.DataFrame) or len(design) != observed_rows:
        raise ValueError(
            f"design must be the DataFrame the model was built on ({observed_rows} rows)"
        )
    start = time.perf_counter()

    with model, _quiet_pymc():
        prior = pm.sample_prior_predictive(
            draws=settings.num_simulations, random_seed=_draw_seed(rng)
        )
    draws = prior["prior"].to_dataset().isel(chain=0)
    simulations = []
    for index in range(settings.num_simulations):
        effects = _effects(draws.isel(draw=index))
        data_effects, truth = perturb(effects, effects) if perturb else (effects, effects)
        logfc = simulate_logfc(design, predictor, data_effects, data_effects["sigma"], rng)
        simulations.append((logfc, truth, _draw_seed(rng)))

    compile_start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    compile_seconds = time.perf_counter() - compile_start
    scales = (1.0, *posterior_scales)

    def one_simulation(index: int) -> tuple[list[tuple], dict]:
        logfc, truth, seed = simulations[index]
        fit_start = time.perf_counter()
        idata = nutpie.sample(
            compiled.with_data(**{OBSERVED_DATA: logfc}),
            draws=settings.draws,
            tune=settings.tune,
            chains=1,
            cores=1,
            seed=seed,
            target_accept=settings.target_accept,
            save_warmup=False,
            progress_bar=False,
        )
        seconds = time.perf_counter() - fit_start
        posterior = idata["posterior"].to_dataset()
        ranked = posterior.isel(chain=0, draw=slice(None, None, settings.thin))
        ranked = ranked.isel(draw=slice(0, settings.max_rank))
        rows = [
            (index, scale, *row)
            for scale in scales
            for row in _rank_rows(ranked, truth, var_names, scale)
        ]
        fit_row = {"simulation": index, "seed": seed, **_fit_record(idata, var_names)}
        return rows, {**fit_row, "seconds": seconds}

    workers = min(settings.workers, os.cpu_count() or 1)
    # nutpie samples in Rust without the GIL: two threads use two cores.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one_simulation, range(settings.num_simulations)))
    all_ranks = pd.DataFrame(
        [row for rows, _ in results for row in rows],
        columns=["simulation", "posterior_scale", "variable", "parameter", "rank"],
    )
    unscaled = all_ranks["posterior_scale"] == 1.0
    fits = pd.DataFrame([fit_row for _, fit_row in results])
    return CalibrationResult(
        chapter=chapter,
        settings=settings,
        ranks=all_ranks[unscaled].drop(columns="posterior_scale").reset_index(drop=True),
        fits=fits,
        compile_seconds=compile_seconds,
        total_seconds=time.perf_counter() - start,
        scaled_ranks=all_ranks[~unscaled].reset_index(drop=True),
    )


def _uniform_cdf(max_rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Ranks 0..L-1 and the uniform CDF there, (k + 1) / (L + 1); the ECDF is
    1 at L by construction, so L itself is left out."""
    ranks = np.arange(max_rank)
    return ranks, (ranks + 1) / (max_rank + 1)


@functools.lru_cache(maxsize=64)
def _ecdf_band(num_simulations: int, max_rank: int, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """ArviZ's simultaneous band for uniform ranks, cached (a second or two).

    ArviZ finds the pointwise level whose binomial band holds a whole
    uniform ECDF with probability ``prob`` by simulation, then returns that
    band. Evaluated at the uniform CDF of the ranks, ``(k + 1) / (L + 1)``,
    it is the band of discrete uniform ranks: a rank is at most k exactly
    when a continuous uniform draw is at most ``(k + 1) / (L + 1)``.
    """
    _, uniform = _uniform_cdf(max_rank)
    level = simulate_confidence_bands(
        num_simulations, 1, uniform, prob, BAND_TRIALS, np.random.default_rng(BAND_SEED)
    )
    return get_pointwise_confidence_band(level, num_simulations, uniform)


def rank_ecdf_band(num_simulations: int, max_rank: int, prob: float = 0.95) -> pd.DataFrame:
    """Simultaneous ``prob`` band for the ECDF of uniform ranks on ``0..L``.

    Säilynoja, Bürkner and Vehtari (2022), as simulated by ArviZ: the whole
    ECDF of ``num_simulations`` uniform ranks stays inside the band with
    probability ``prob``. Columns: ``rank`` (k), ``fractional_rank``
    ((k + 1) / (L + 1), the uniform CDF at k), ``lower`` and ``upper`` as
    differences from it.
    """
    num_simulations = check_positive_int("num_simulations", num_simulations)
    max_rank = check_positive_int("max_rank", max_rank)
    prob = check_probability("prob", prob)
    ranks, uniform = _uniform_cdf(max_rank)
    lower, upper = _ecdf_band(num_simulations, max_rank, prob)
    return pd.DataFrame(
        {
            "rank": ranks,
            "fractional_rank": uniform,
            "lower": lower - uniform,
            "upper": upper - uniform,
        }
    )


def rank_ecdf_differences(result: CalibrationResult) -> pd.DataFrame:
    """ECDF of each parameter's ranks minus the uniform CDF, at ranks 0..L-1."""
    ranks, uniform = _uniform_cdf(result.max_rank)
    frames = []
    for (variable, parameter), group in result.ranks.groupby(["variable", "parameter"], sort=False):
        values = np.sort(group["rank"].to_numpy())
        ecdf = np.searchsorted(values, ranks, side="right") / len(values)
        frames.append(
            pd.DataFrame(
                {
                    "variable": variable,
                    "parameter": parameter,
                    "rank": ranks,
                    "fractional_rank": uniform,
                    "ecdf_difference": ecdf - uniform,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _beyond(difference, lower, upper):
    """Where an ECDF difference leaves the band (a rounding hair inside counts)."""
    return (difference < lower - 1e-12) | (difference > upper + 1e-12)


def _outside(differences: pd.DataFrame, band: pd.DataFrame) -> pd.Series:
    """Per parameter: does its ECDF difference leave ``band`` anywhere?"""
    merged = differences.merge(band[["rank", "lower", "upper"]], on="rank")
    leaves = _beyond(merged["ecdf_difference"], merged["lower"], merged["upper"])
    return leaves.groupby(merged["parameter"], sort=False).any()


def calibration_table(result: CalibrationResult, prob: float = 0.95) -> pd.DataFrame:
    """Which variables pass: one row per variable of the model.

    ``outside_band`` counts scalars whose rank ECDF leaves the simultaneous
    ``prob`` band; about ``(1 - prob)`` of them do by chance alone
    (``expected_by_chance``). The verdict is family-wise: a variable fails if
    any scalar leaves the Bonferroni band at level ``1 - 0.05 / m``, ``m``
    the number of scalars checked in the model, so the chance that a
    calibrated model fails anywhere is at most 5 %.

    ``interval_coverage`` is how often the truth fell strictly inside the
    posterior draws ranked (rank neither 0 nor L), over all simulations and
    scalars; a calibrated model covers ``(L - 1) / (L + 1)`` of the time
    (``nominal_coverage``). It is the SBC counterpart of a chapter's HDI
    coverage, averaged over the prior instead of one data set.

    A variable that would pass is ``inconclusive`` when more than
    :data:`MAX_DIVERGENT_SHARE` of the fits diverged: those ranks come partly
    from biased posteriors, and a pass would vouch for them.
    """
    prob = check_probability("prob", prob)
    differences = rank_ecdf_differences(result)
    num_scalars = differences["parameter"].nunique()
    marginal = _outside(differences, rank_ecdf_band(result.num_simulations, result.max_rank, prob))
    familywise = _outside(
        differences,
        rank_ecdf_band(result.num_simulations, result.max_rank, 1 - FAMILY_ALPHA / num_scalars),
    )
    variable_of = differences.drop_duplicates("parameter").set_index("parameter")["variable"]
    rows = []
    inside = result.ranks["rank"].between(1, result.max_rank - 1)
    coverage = inside.groupby(result.ranks["variable"]).mean()
    for variable in dict.fromkeys(variable_of):
        parameters = variable_of.index[variable_of == variable]
        rows.append(
            {
                "chapter": result.chapter,
                "variable": variable,
                "scalars": len(parameters),
                "outside_band": int(marginal[parameters].sum()),
                "expected_by_chance": round((1 - prob) * len(parameters), 1),
                "outside_familywise_band": int(familywise[parameters].sum()),
                "interval_coverage": float(coverage[variable]),
                "nominal_coverage": (result.max_rank - 1) / (result.max_rank + 1),
                "verdict": _verdict(bool(familywise[parameters].any()), result),
            }
        )
    return pd.DataFrame(rows)


def _verdict(fails: bool, result: CalibrationResult) -> str:
    if fails:
        return "fails"
    return "inconclusive" if result.divergent_share > MAX_DIVERGENT_SHARE else "passes"


def calibration_fit_summary(result: CalibrationResult) -> dict:
    """How well the sampler did across the simulations (SBC also tests it).

    ``below_ess_max_rank`` counts fits whose lowest bulk ESS is below L, the
    number of draws ranked: their ranked draws are autocorrelated, which
    pushes ranks to the ends (a false alarm of overconfidence, never a false
    pass of it). ``most_often_lowest_ess`` names the variable that most
    often had the lowest ESS.
    """
    fits = result.fits
    return {
        "chapter": result.chapter,
        "simulations": len(fits),
        "with_divergences": int((fits["divergences"] > 0).sum()),
        "median_min_ess_bulk": float(fits["min_ess_bulk"].median()),
        "below_ess_max_rank": int((fits["min_ess_bulk"] < result.max_rank).sum()),
        "most_often_lowest_ess": fits["worst_ess_variable"].mode().iloc[0],
        "compile_seconds": result.compile_seconds,
        "total_seconds": result.total_seconds,
    }


def calibrate_recommended(
    chapter: str,
    rng: RandomSource,
    settings: CalibrationSettings | None = None,
    *,
    perturb: Perturbation | None = None,
    posterior_scales: tuple[float, ...] = (),
) -> CalibrationResult:
    """SBC of a chapter's recommended model, on the chapter's design and with
    its ``target_accept``, for the parameters the chapter reports; the data
    simulated through the chapter's simulation (its ``predictor``)."""
    entry = recommended_model(chapter)
    if entry.predictor is None:
        raise ValueError(f"chapter {chapter!r} has no simulation predictor for calibration")
    settings = dataclasses.replace(
        settings or CalibrationSettings(), target_accept=entry.target_accept
    )
    design = entry.simulate().observations
    return simulation_based_calibration(
        entry.build(design),
        rng,
        list(entry.var_names),
        settings,
        design=design,
        predictor=entry.predictor(),
        chapter=chapter,
        perturb=perturb,
        posterior_scales=posterior_scales,
    )


# --- positive controls: errors the check must flag ---------------------------


def widened_prior(group: str, mean: str, scale: str, factor: float = 2.0) -> Perturbation:
    """Data from a prior whose ``scale`` is ``factor`` times the model's: the
    group's deviations from ``mean`` and its ``scale`` are multiplied by
    ``factor`` (a half-normal scale prior times two is one twice as wide)."""

    def perturb(effects: Effects, _truth: Effects) -> tuple[Effects, Effects]:
        changed = dict(effects)
        centre = effects[mean]
        changed[group] = centre + factor * (effects[group] - centre)
        changed[scale] = factor * effects[scale]
        return changed, changed

    return perturb


def swapped_index(group: str) -> Perturbation:
    """Data simulated with each label of ``group`` given the next label's
    effect, ranked against the labels' own: what a model indexing the group
    one off would estimate."""

    def perturb(effects: Effects, truth: Effects) -> tuple[Effects, Effects]:
        values = effects[group]
        swapped = pd.Series(np.roll(values.to_numpy(), 1), index=values.index, name=group)
        return {**effects, group: swapped}, truth

    return perturb


@dataclass(frozen=True)
class Control:
    """A deliberately wrong set-up that SBC must flag, and how it is made."""

    name: str
    description: str
    perturb: Perturbation | None = None
    posterior_scale: float = 1.0


#: The positive controls, run on one chapter's model (model 2 in the book:
#: its effects are gene-level, ``mu_beta``/``sigma_beta`` their hyper-prior).
CONTROLS = (
    Control(
        "prior scale x2",
        "data drawn with sigma_beta's prior twice as wide as the model's",
        perturb=widened_prior("beta", "mu_beta", "sigma_beta"),
    ),
    Control(
        "swapped index",
        "each gene's intercept simulated for the next gene",
        perturb=swapped_index("alpha"),
    ),
    Control("posterior too narrow", "posterior draws shrunk to half their spread", None, 0.5),
    Control("posterior too wide", "posterior draws spread to twice their spread", None, 2.0),
)


def control_table(results: Mapping[str, CalibrationResult], prob: float = 0.95) -> pd.DataFrame:
    """One row per control: which variables it failed and whether SBC flagged it."""
    rows = []
    for control in CONTROLS:
        result = results[control.name]
        if control.posterior_scale != 1.0:
            result = result.at_posterior_scale(control.posterior_scale)
        table = calibration_table(result, prob)
        failed = table.loc[table["verdict"] == "fails", "variable"].tolist()
        rows.append(
            {
                "control": control.name,
                "what is wrong": control.description,
                "chapter": result.chapter,
                "variables failing": ", ".join(failed) or "none",
                "flagged": bool(failed),
            }
        )
    return pd.DataFrame(rows)


# --- power --------------------------------------------------------------------


def detection_power(
    num_simulations: int,
    max_rank: int,
    rng: RandomSource,
    *,
    posterior_scale: float = 1.0,
    bias: float = 0.0,
    num_scalars: int = 1,
    trials: int = 400,
) -> float:
    """How often SBC flags one scalar whose posterior is miscalibrated.

    The truth is drawn from the correct posterior (standard normal after
    centring and scaling); the draws ranked come from a posterior whose sd is
    ``posterior_scale`` times the right one and whose centre is off by
    ``bias`` right sds. A trial flags the scalar when its rank ECDF leaves
    the band used for a model of ``num_scalars`` scalars (the Bonferroni
    band, 95 % for one). Returns the share of ``trials`` flagged.
    """
    rng = check_rng(rng)
    num_simulations = check_positive_int("num_simulations", num_simulations)
    max_rank = check_positive_int("max_rank", max_rank)
    num_scalars = check_positive_int("num_scalars", num_scalars)
    trials = check_positive_int("trials", trials)
    band = rank_ecdf_band(num_simulations, max_rank, 1 - FAMILY_ALPHA / num_scalars)
    truth = rng.standard_normal((trials, num_simulations, 1))
    draws = bias + posterior_scale * rng.standard_normal((trials, num_simulations, max_rank))
    ranks = (draws < truth).sum(axis=2)
    grid = band["rank"].to_numpy()
    ecdf = (ranks[:, :, None] <= grid[None, None, :]).mean(axis=1)
    difference = ecdf - band["fractional_rank"].to_numpy()
    outside = _beyond(difference, band["lower"].to_numpy(), band["upper"].to_numpy())
    return float(outside.any(axis=1).mean())


def power_table(
    num_simulations: int, max_rank: int, rng: RandomSource, num_scalars: int = 1
) -> pd.DataFrame:
    """Detection power for a range of posterior errors (width and bias)."""
    errors = [
        ("too narrow", 0.5, 0.0),
        ("too narrow", 0.8, 0.0),
        ("too wide", 1.25, 0.0),
        ("too wide", 2.0, 0.0),
        ("biased", 1.0, 0.25),
        ("biased", 1.0, 0.5),
        ("biased", 1.0, 1.0),
    ]
    return pd.DataFrame(
        [
            {
                "error": kind,
                "posterior_sd_factor": scale,
                "bias_in_posterior_sds": bias,
                "scalars_in_model": num_scalars,
                "power": detection_power(
                    num_simulations,
                    max_rank,
                    rng,
                    posterior_scale=scale,
                    bias=bias,
                    num_scalars=num_scalars,
                ),
            }
            for kind, scale, bias in errors
        ]
    )
