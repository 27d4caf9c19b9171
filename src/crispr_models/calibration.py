"""Simulation-based calibration (Talts et al. 2018) with one compiled model.

Draw parameters from the prior, simulate data from them, fit, and record the
rank of each true value among (thinned) posterior draws. If the model and the
sampler are right, every rank is uniform on ``0..L``. The model is compiled
once by nutpie and given each simulated data set through its
``logfc_observed`` data container; two simulations run at a time, one chain
each, so both cores stay busy without a second warm-up per simulation.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from arviz_stats.ecdf_utils import get_pointwise_confidence_band, simulate_confidence_bands

from crispr_models.fitting import _draw_seed, _model_variable_names, _quiet_pymc
from crispr_models.input_checks import (
    RandomSource,
    check_positive_int,
    check_probability,
    check_rng,
)
from crispr_models.models import OBSERVED_DATA
from crispr_models.registry import recommended_model

#: Family-wise error rate of a model's verdict (Bonferroni over its scalars).
FAMILY_ALPHA = 0.05
#: Uniform ECDFs ArviZ simulates to find a simultaneous band, and their seed
#: (fixed, so a band and every verdict read against it are reproducible). The
#: Bonferroni band of a model with ~130 scalars is the 0.9996 quantile of
#: the simulated statistic: 50,000 trials put about 20 beyond it.
BAND_TRIALS = 50_000
BAND_SEED = 20220101


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

    @property
    def max_rank(self) -> int:
        return self.settings.max_rank

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
    ranked: xr.Dataset, truth: xr.Dataset, var_names: list[str]
) -> list[tuple[str, str, int]]:
    """(variable, parameter, rank): how many ranked draws fall below the truth."""
    rows = []
    for name in var_names:
        true = _scalars(truth[name], name)
        for parameter, draws in _scalars(ranked[name], name).items():
            rows.append((name, parameter, int(np.sum(draws < true[parameter]))))
    return rows


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
    chapter: str = "",
) -> CalibrationResult:
    """Run SBC on ``model`` for the parameters in ``var_names``.

    The model's own design (covariates, group sizes) is kept; only the
    observed logFC is replaced by each prior predictive draw. ``rng`` seeds
    the prior draws and every simulation's sampler, so the same generator
    state gives the same ranks, whatever the order the threads finish in.
    """
    import nutpie

    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}")
    if OBSERVED_DATA not in model.named_vars:
        raise ValueError(
            f"model has no data container {OBSERVED_DATA!r}; build it with crispr_models.models"
        )
    rng = check_rng(rng)
    settings = settings or CalibrationSettings()
    var_names = _check_var_names(model, var_names)
    start = time.perf_counter()

    with model, _quiet_pymc():
        prior = pm.sample_prior_predictive(
            draws=settings.num_simulations, random_seed=_draw_seed(rng)
        )
    truths = prior["prior"].to_dataset().isel(chain=0)
    simulated_logfc = prior["prior_predictive"]["logfc"].isel(chain=0).to_numpy()
    seeds = [_draw_seed(rng) for _ in range(settings.num_simulations)]

    compile_start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    compile_seconds = time.perf_counter() - compile_start

    def one_simulation(index: int) -> tuple[list[tuple], dict]:
        fit_start = time.perf_counter()
        idata = nutpie.sample(
            compiled.with_data(**{OBSERVED_DATA: simulated_logfc[index]}),
            draws=settings.draws,
            tune=settings.tune,
            chains=1,
            cores=1,
            seed=seeds[index],
            target_accept=settings.target_accept,
            save_warmup=False,
            progress_bar=False,
        )
        seconds = time.perf_counter() - fit_start
        posterior = idata["posterior"].to_dataset()
        ranked = posterior.isel(chain=0, draw=slice(None, None, settings.thin))
        ranked = ranked.isel(draw=slice(0, settings.max_rank))
        truth = truths.isel(draw=index)
        rows = [(index, *row) for row in _rank_rows(ranked, truth, var_names)]
        fit_row = {"simulation": index, "seed": seeds[index], **_fit_record(idata, var_names)}
        return rows, {**fit_row, "seconds": seconds}

    workers = min(settings.workers, os.cpu_count() or 1)
    # nutpie samples in Rust without the GIL: two threads use two cores.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one_simulation, range(settings.num_simulations)))
    ranks = pd.DataFrame(
        [row for rows, _ in results for row in rows],
        columns=["simulation", "variable", "parameter", "rank"],
    )
    fits = pd.DataFrame([fit_row for _, fit_row in results])
    return CalibrationResult(
        chapter=chapter,
        settings=settings,
        ranks=ranks,
        fits=fits,
        compile_seconds=compile_seconds,
        total_seconds=time.perf_counter() - start,
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


def _outside(differences: pd.DataFrame, band: pd.DataFrame) -> pd.Series:
    """Per parameter: does its ECDF difference leave ``band`` anywhere?"""
    merged = differences.merge(band[["rank", "lower", "upper"]], on="rank")
    leaves = (merged["ecdf_difference"] < merged["lower"] - 1e-12) | (
        merged["ecdf_difference"] > merged["upper"] + 1e-12
    )
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
                "verdict": "fails" if familywise[parameters].any() else "passes",
            }
        )
    return pd.DataFrame(rows)


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
    chapter: str, rng: RandomSource, settings: CalibrationSettings | None = None
) -> CalibrationResult:
    """SBC of a chapter's recommended model, on the chapter's design and with
    its ``target_accept``, for the parameters the chapter reports."""
    entry = recommended_model(chapter)
    settings = dataclasses.replace(
        settings or CalibrationSettings(), target_accept=entry.target_accept
    )
    return simulation_based_calibration(
        entry.model(), rng, list(entry.var_names), settings, chapter=chapter
    )
