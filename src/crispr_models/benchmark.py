"""Sampler benchmark: each recommended model with nutpie, PyMC and numpyro.

Every fit gets the same draws, warm-up, chains, ``target_accept`` and seed;
only the engine changes. Times are wall-clock seconds on this machine:
``compile_seconds`` is what runs before the first draw (for nutpie, its
numba compilation; for PyMC and numpyro, PyMC's setup and graph
compilation), ``sampling_seconds`` the sampler's own loop (for numpyro it
includes JAX's just-in-time compilation, which happens at the first call),
``total_seconds`` the whole call.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd

from crispr_models.diagnostics import sampling_efficiency
from crispr_models.fitting import sample_posterior
from crispr_models.input_checks import check_choice, check_non_negative_int
from crispr_models.registry import RECOMMENDED, recommended_model
from crispr_models.settings import SAMPLERS, SamplerSettings

BENCHMARK_COLUMNS = [
    "chapter",
    "sampler",
    "chains",
    "tune",
    "draws",
    "seed",
    "compile_seconds",
    "sampling_seconds",
    "total_seconds",
    "divergences",
    "max_r_hat",
    "min_ess_bulk",
    "ess_per_second_sampling",
    "ess_per_second_total",
]


def benchmark_fit(
    chapter: str, sampler: str, *, draws: int, tune: int, chains: int, seed: int
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
        "chains": chains,
        "tune": tune,
        "draws": draws,
        "seed": seed,
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
) -> pd.DataFrame:
    """Every chapter with every sampler; one row per fit, engine by engine.

    Bad chapter ids, sampler names or settings are refused before the first
    fit. The frame's ``attrs`` record the machine (``platform``, ``cpus``).
    """
    chapters = [recommended_model(c).chapter for c in chapters]
    samplers = [check_choice("sampler", s, SAMPLERS) for s in samplers]
    if not chapters or not samplers:
        raise ValueError("chapters and samplers must each name at least one entry")
    SamplerSettings(draws=draws, tune=tune, chains=chains)  # checks the numbers
    seed = check_non_negative_int("seed", seed)
    # Engine by engine, numpyro last: PyMC forks a process per chain, and
    # Python warns against forking once JAX's threads are running.
    order = sorted(samplers, key=lambda s: s == "numpyro")
    rows = [
        benchmark_fit(chapter, sampler, draws=draws, tune=tune, chains=chains, seed=seed)
        for sampler in order
        for chapter in chapters
    ]
    table = pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)
    table.attrs.update(platform=platform.platform(), cpus=os.cpu_count() or 1)
    return table


def speedups(table: pd.DataFrame, baseline: str = "pymc") -> pd.DataFrame:
    """Per chapter: each engine's ESS per second (sampling and total) over ``baseline``'s."""
    check_choice("baseline", baseline, SAMPLERS)
    measures = ["ess_per_second_sampling", "ess_per_second_total"]
    wide = table.pivot(index="chapter", columns="sampler", values=measures)
    ratios = {
        (measure, sampler): wide[(measure, sampler)] / wide[(measure, baseline)]
        for measure in measures
        for sampler in table["sampler"].unique()
    }
    return pd.DataFrame(ratios).loc[table["chapter"].unique()]
