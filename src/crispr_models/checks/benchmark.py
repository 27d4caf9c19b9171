"""Sampler benchmark: each recommended model with nutpie, PyMC and numpyro.

Every fit gets the same draws, warm-up, chains, cores, ``target_accept`` and
seed; only the engine changes. Each measurement is repeated (a new seed per
repeat, the same for every engine) and reported with its median and range.
Times are wall-clock seconds on this machine: ``compile_seconds`` is
everything that is not the sampler's loop (for nutpie its numba compilation;
for PyMC its C compilation; for numpyro PyMC's conversion to JAX and JAX's
just-in-time compilation of the sampler, counted by JAX's own monitoring
events), ``sampling_seconds`` the loop itself, ``total_seconds`` the whole
call. numpyro runs its chains in parallel when JAX has one device per chain
(``parallel_chains``; see :func:`crispr_models.core.fitting.jax_devices`).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd

from crispr_models.checks.diagnostics import sampling_efficiency
from crispr_models.core.fitting import jax_devices, sample_posterior
from crispr_models.core.input_checks import (
    check_choice,
    check_non_negative_int,
    check_positive_int,
)
from crispr_models.core.registry import RECOMMENDED, recommended_model
from crispr_models.core.settings import SAMPLERS, SamplerSettings

BENCHMARK_COLUMNS = [
    "chapter",
    "sampler",
    "repeat",
    "chains",
    "tune",
    "draws",
    "seed",
    "parallel_chains",
    "compile_seconds",
    "sampling_seconds",
    "total_seconds",
    "divergences",
    "max_r_hat",
    "min_ess_bulk",
    "ess_per_second_sampling",
    "ess_per_second_total",
]

#: The measures a repeated benchmark summarises by median and range.
MEASURES = [
    "compile_seconds",
    "sampling_seconds",
    "total_seconds",
    "min_ess_bulk",
    "ess_per_second_sampling",
    "ess_per_second_total",
]


def _runs_chains_in_parallel(sampler: str, chains: int) -> bool:
    """nutpie and PyMC run one chain per core (up to the cores); numpyro
    needs one JAX device per chain, or it draws them one after another."""
    if sampler == "numpyro":
        return jax_devices() >= chains
    return (os.cpu_count() or 1) >= chains


def benchmark_fit(
    chapter: str,
    sampler: str,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    repeat: int = 0,
) -> dict:
    """Fit one chapter's recommended model with one engine; one row of figures."""
    entry = recommended_model(chapter)
    check_choice("sampler", sampler, SAMPLERS)
    seed = check_non_negative_int("seed", seed)
    settings = SamplerSettings(
        draws=draws, tune=tune, chains=chains, sampler=sampler, target_accept=entry.target_accept
    )
    model = entry.model()
    start = time.perf_counter()
    idata = sample_posterior(model, np.random.default_rng(seed), settings)
    total = time.perf_counter() - start
    efficiency = sampling_efficiency(idata, list(entry.var_names))
    sampling = efficiency["sampling_seconds"]
    return {
        "chapter": chapter,
        "sampler": sampler,
        "repeat": repeat,
        "chains": chains,
        "tune": tune,
        "draws": draws,
        "seed": seed,
        "parallel_chains": _runs_chains_in_parallel(sampler, chains),
        "compile_seconds": total - sampling,
        "sampling_seconds": sampling,
        "total_seconds": total,
        "divergences": efficiency["divergences"],
        "max_r_hat": efficiency["max_r_hat"],
        "min_ess_bulk": efficiency["min_ess_bulk"],
        "ess_per_second_sampling": efficiency["ess_per_second"],
        "ess_per_second_total": efficiency["min_ess_bulk"] / total,
    }


def run_benchmark(
    chapters: Iterable[str] = tuple(RECOMMENDED),
    samplers: Iterable[str] = SAMPLERS,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    seed: int = 103,
    repeats: int = 3,
) -> pd.DataFrame:
    """Every chapter with every sampler, ``repeats`` times; one row per fit.

    Repeat ``r`` seeds every engine with ``seed + r``, so the range of a
    measure covers both the machine's noise and the sampler's Monte Carlo
    variation. Bad chapter ids, sampler names or settings are refused before
    the first fit. The frame's ``attrs`` record the machine (``platform``,
    ``cpus``, ``jax_devices``).
    """
    chapters = [recommended_model(c).chapter for c in chapters]
    samplers = [check_choice("sampler", s, SAMPLERS) for s in samplers]
    if not chapters or not samplers:
        raise ValueError("chapters and samplers must each name at least one entry")
    SamplerSettings(draws=draws, tune=tune, chains=chains)  # checks the numbers
    seed = check_non_negative_int("seed", seed)
    repeats = check_positive_int("repeats", repeats)
    # Engine by engine, numpyro last: PyMC forks a process per chain, and
    # Python warns against forking once JAX's threads are running.
    order = sorted(samplers, key=lambda s: s == "numpyro")
    rows = [
        benchmark_fit(
            chapter,
            sampler,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed + repeat,
            repeat=repeat,
        )
        for sampler in order
        for repeat in range(repeats)
        for chapter in chapters
    ]
    table = pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)
    table.attrs.update(
        platform=platform.platform(), cpus=os.cpu_count() or 1, jax_devices=jax_devices()
    )
    return table


def summarise_benchmark(table: pd.DataFrame) -> pd.DataFrame:
    """Per chapter and engine: the median, lowest and highest of every measure
    over the repeats (columns ``<measure>_median``, ``_low``, ``_high``), the
    divergences summed and the worst r-hat."""
    groups = table.groupby(["chapter", "sampler"], sort=False)
    spread = groups[MEASURES].agg(["median", "min", "max"])
    names = {"median": "median", "min": "low", "max": "high"}
    spread.columns = [f"{measure}_{names[stat]}" for measure, stat in spread.columns]
    checks = groups.agg(
        repeats=("repeat", "nunique"),
        divergences=("divergences", "sum"),
        max_r_hat=("max_r_hat", "max"),
    )
    return checks.join(spread).reset_index()


def speedups(table: pd.DataFrame, baseline: str = "pymc") -> pd.DataFrame:
    """Each engine's ESS per second over ``baseline``'s, repeat by repeat
    (the same seed), summarised per chapter by median, lowest and highest.

    Rows: chapter and engine; columns: ``<measure>_median``, ``_low``,
    ``_high`` for ``ess_per_second_sampling`` and ``ess_per_second_total``.
    """
    check_choice("baseline", baseline, SAMPLERS)
    if baseline not in set(table["sampler"]):
        raise ValueError(f"baseline {baseline!r} is not among the table's samplers")
    measures = ["ess_per_second_sampling", "ess_per_second_total"]
    keys = ["chapter", "repeat"]
    base = table.loc[table["sampler"] == baseline, [*keys, *measures]]
    paired = table.merge(base, on=keys, suffixes=("", "_baseline"))
    for measure in measures:
        paired[measure] = paired[measure] / paired[f"{measure}_baseline"]
    ratios = summarise_benchmark(paired)
    columns = [f"{m}_{stat}" for m in measures for stat in ("median", "low", "high")]
    return ratios.set_index(["chapter", "sampler"])[columns]
