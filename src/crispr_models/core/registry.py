"""The registry of chapter facts: one place for what is known of each chapter.

For each chapter: the model it recommends on the data of its defaults (the
validation chapters need it without running the chapter), the name it saves
that fit under, whether it saves a LOO comparison, the defaults that its
qualitative claims were checked for, the figures it draws, its cell timeout,
whether it measures time (and so runs alone) and which chapters' outputs it
reads. The runner, the loo and bench chapters and the tests read it;
``tests/test_registry.py`` checks it against every parameters cell.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from crispr_models.core.input_checks import check_choice
from crispr_models.core.settings import SamplerSettings

if TYPE_CHECKING:
    import pandas as pd
    import pymc as pm


class _Deferred:
    """A module imported when first used: reading the registry (the command
    line does, to check ``-p`` values) does not import PyMC."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(f"crispr_models.{self._name}"), attribute)


models, simulation = _Deferred("series.models"), _Deferred("series.simulation")

#: Where the run command publishes each chapter's outputs, under the project.
GENERATED_DIR = Path("book") / "generated"
#: The tables each model-comparison chapter saves for the ``loo`` chapter.
LOO_TABLES = ("loo_comparison", "loo_pareto_k")

SEED = 103


@dataclass(frozen=True)
class RecommendedModel:
    """One chapter's final model: how to build it and how the chapter samples it."""

    chapter: str
    description: str
    simulate: Callable[[], object]
    build: Callable[[pd.DataFrame], pm.Model]
    #: Parameters the chapter reports (the non-centred ``_z`` helpers left out).
    var_names: tuple[str, ...]
    #: How its simulation computes the mean logFC from the effects, for
    #: calibration (a ``simulation.LinearPredictor``), if it has one.
    predictor: Callable[[], object] | None = None

    def model(self) -> pm.Model:
        """The model on the chapter's default data."""
        return self.build(self.simulate().observations)

    @property
    def target_accept(self) -> float:
        """The step-size target the chapter samples its model with."""
        return CHAPTERS[self.chapter].sampling.target_accept


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


_M6_SCALARS = ("mu_gamma", "sigma_gamma", "mu_delta", "sigma_delta", "sigma_alpha", "sigma_beta")

RECOMMENDED: dict[str, RecommendedModel] = {
    entry.chapter: entry
    for entry in (
        RecommendedModel(
            "m1",
            "one gene, logFC on RNA",
            lambda: simulation.simulate_single_gene_rna(_rng()),
            lambda data: models.single_gene_rna_model(data),
            ("alpha", "beta", "sigma"),
        ),
        RecommendedModel(
            "m2",
            "genes with varying intercept and RNA slope",
            lambda: simulation.simulate_multigene_rna(np.random.RandomState(SEED)),
            lambda data: models.multigene_rna_model(data),
            ("mu_alpha", "sigma_alpha", "mu_beta", "sigma_beta", "alpha", "beta", "sigma"),
            predictor=lambda: simulation.MULTIGENE_RNA,
        ),
        RecommendedModel(
            "m3",
            "gene-level predictor of the intercepts",
            lambda: simulation.simulate_gene_level_predictor(_rng()),
            lambda data: models.gene_level_predictor_model(data),
            ("mu_gamma", "delta", "sigma_gamma", "mu_beta", "sigma_beta", "sigma"),
        ),
        RecommendedModel(
            "m4",
            "gene intercepts and slopes, zero-sum cell lines",
            lambda: simulation.simulate_gene_cell_line_rna(_rng()),
            lambda data: models.gene_cell_line_rna_model(data, cell_line_effect="zero_sum"),
            ("mu_alpha", "sigma_alpha", "sigma_gamma", "mu_beta", "sigma_beta", "sigma"),
        ),
        RecommendedModel(
            "m5",
            "sgRNAs in genes, zero-sum cell lines",
            lambda: simulation.simulate_sgrna_cell_line(_rng()),
            lambda data: models.sgrna_cell_line_model(data, cell_line_effect="zero_sum"),
            ("mu_gamma", "sigma_gamma", "sigma_alpha", "sigma_beta", "sigma"),
        ),
        RecommendedModel(
            "m6",
            "sgRNA effects at two copies and copy-number slopes, non-centred",
            lambda: simulation.simulate_sgrna_copy_number(np.random.RandomState(SEED)),
            lambda data: models.sgrna_copy_number_model(
                data, covariate="cna_diploid", parameterization="non_centred"
            ),
            (*_M6_SCALARS, "sigma", "gamma", "delta", "alpha", "beta"),
            predictor=lambda: simulation.SGRNA_DIPLOID_COPY_NUMBER,
        ),
        RecommendedModel(
            "m6global",
            "model 6 with a global intercept and zero-sum genes",
            lambda: simulation.simulate_sgrna_copy_number(
                _rng(), copy_number_rates=(1.0, 0.8, 1.2, 1.5, 2.0)
            ),
            lambda data: models.sgrna_copy_number_model(data, global_intercept="zero_sum"),
            ("alpha_global", "sigma_gamma", "mu_delta", "sigma_delta", "sigma_alpha", "sigma"),
        ),
        RecommendedModel(
            "m6corr",
            "model 6 with correlated sgRNA intercepts and slopes (LKJ)",
            lambda: simulation.simulate_sgrna_copy_number(
                _rng(),
                sgrnas_per_gene=(5,) * 10,
                copy_number_rates=(1.0, 0.8, 1.2, 1.5, 2.0) * 2,
                sigma_alpha=0.5,
                sigma_beta=0.5,
                rho=-0.6,
            ),
            lambda data: models.correlated_sgrna_copy_number_model(data),
            (*_M6_SCALARS, "rho", "sigma", "gamma", "delta", "alpha", "beta"),
            predictor=lambda: simulation.SGRNA_COPY_NUMBER,
        ),
        RecommendedModel(
            "m7",
            "hierarchical 7c: sgRNAs in genes, zero-sum cell lines, 1100 rows",
            lambda: simulation.simulate_sgrna_cell_line(
                _rng(),
                sgrnas_per_gene=tuple(range(1, 11)),
                sigma_gamma=0.5,
                sigma_alpha=0.2,
                sigma=0.3,
            ),
            lambda data: models.sgrna_cell_line_model(data, cell_line_effect="zero_sum"),
            (
                "mu_gamma",
                "sigma_gamma",
                "sigma_alpha",
                "sigma_beta",
                "sigma",
                "gamma",
                "alpha",
                "beta",
            ),
            predictor=lambda: simulation.SGRNA_CELL_LINE,
        ),
    )
}


def recommended_model(chapter: str) -> RecommendedModel:
    """The entry for ``chapter`` (``"m6corr"``, ...); refuses unknown ids."""
    check_choice("chapter", chapter, tuple(RECOMMENDED))
    return RECOMMENDED[chapter]


#: Longest a cell may run before the run fails, unless a chapter says more.
#: The longest cells of the full profile take about 1 minute in the series and
#: 7 minutes in the validation chapters on a 2-core machine.
DEFAULT_CELL_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Chapter:
    """What the book machinery, the validation chapters and the tests know of
    a chapter without running it."""

    id: str
    #: Figures the chapter draws (plots and model graphs), at least.
    figures: int
    #: Name of the recommended fit's NetCDF file and summary rows.
    fit_name: str | None = None
    #: Fits several models to the same data and saves a LOO comparison.
    loo: bool = False
    #: Parameter defaults that decide the data (and so the prose's qualitative
    #: claims): a run that changes one of them says so on its page.
    defaults: Mapping[str, object] = field(default_factory=dict)
    cell_timeout_seconds: int = DEFAULT_CELL_TIMEOUT_SECONDS
    #: How the chapter samples, unless a run overrides a setting with ``-p``.
    sampling: SamplerSettings | None = None
    #: Per profile, values that replace the profile's own for this chapter.
    profile_overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    #: Seconds a full-profile run takes on two cores (a fresh clone, measured):
    #: the book starts the longest chapters first. Its last run's, once it ran.
    typical_seconds: float = 60.0
    #: Runs alone, never beside another chapter: it measures time (bench), or
    #: its own workers already use every core (sbc: alone 341 s, beside the
    #: others 625 s, on two cores).
    runs_alone: bool = False
    #: Chapters whose outputs it reads: it runs after them.
    reads: tuple[str, ...] = ()

    @property
    def recommended(self) -> RecommendedModel | None:
        return RECOMMENDED.get(self.id)


def _defaults(**values: object) -> Mapping[str, object]:
    return MappingProxyType({"seed": SEED, **values})


#: Model 7's design, which the predictive-checks chapter reuses.
_M7_DESIGN = _defaults(
    num_genes=10,
    num_cell_lines=20,
    true_mu_gamma=-1.0,
    true_sigma_gamma=0.5,
    true_sigma_alpha=0.2,
    true_mu_beta=0.0,
    true_sigma_beta=1.0,
    true_sigma=0.3,
)

_SERIES = (
    Chapter(
        "m1",
        7,
        "single_gene_rna",
        typical_seconds=23,
        sampling=SamplerSettings(draws=1000, tune=1000),
        defaults=_defaults(num_cell_lines=20, true_alpha=0.5, true_beta=-1.0, true_sigma=0.3),
    ),
    Chapter(
        "m2",
        6,
        "multigene_rna",
        typical_seconds=24,
        sampling=SamplerSettings(draws=2000, tune=2000, target_accept=0.9),
        defaults=_defaults(
            reproduce_original=True,
            num_genes=5,
            num_cell_lines=30,
            true_mu_alpha=-1.0,
            true_sigma_alpha=1.0,
            true_mu_beta=-1.0,
            true_sigma_beta=2.0,
            true_sigma=0.5,
        ),
    ),
    Chapter(
        "m3",
        8,
        "gene_level_predictor",
        typical_seconds=33,
        sampling=SamplerSettings(draws=1000, tune=1000, short_draws=500),
        defaults=_defaults(
            num_genes=10,
            num_cell_lines=20,
            num_replicates=3,
            true_mu_gamma=-1.0,
            true_delta=-0.5,
            true_sigma_gamma=0.4,
            true_mu_beta=0.0,
            true_sigma_beta=1.0,
            true_sigma=0.3,
        ),
    ),
    Chapter(
        "m4",
        7,
        "zero_sum_cell_lines",
        typical_seconds=53,
        sampling=SamplerSettings(draws=1000, tune=1000, short_draws=500),
        loo=True,
        defaults=_defaults(
            num_genes=5,
            num_cell_lines=20,
            num_replicates=3,
            true_mu_alpha=-1.0,
            true_sigma_alpha=1.0,
            true_mu_gamma=0.0,
            true_sigma_gamma=3.0,
            true_mu_beta=-1.0,
            true_sigma_beta=2.0,
            true_sigma=0.3,
        ),
    ),
    Chapter(
        "m5",
        6,
        "zero_sum_cell_lines",
        typical_seconds=39,
        sampling=SamplerSettings(draws=1000, tune=1000, short_draws=500),
        defaults=_defaults(
            sgrnas_per_gene=(1, 2, 3, 4, 5),
            num_cell_lines=20,
            true_mu_gamma=-1.0,
            true_sigma_gamma=1.0,
            true_sigma_alpha=0.1,
            true_mu_beta=0.0,
            true_sigma_beta=1.0,
            true_sigma=0.05,
        ),
    ),
    Chapter(
        "m6",
        6,
        "copy_number_diploid",
        typical_seconds=52,
        sampling=SamplerSettings(draws=2000, tune=2000, target_accept=0.95, short_draws=500),
        loo=True,
        defaults=_defaults(
            reproduce_original=True,
            sgrnas_per_gene=(1, 2, 3, 4, 5),
            num_cell_lines=20,
            copy_number_rates=(1.0, 0.8, None, 1.5, 2.0),
            true_mu_gamma=-0.5,
            true_sigma_gamma=0.5,
            true_sigma_alpha=0.2,
            true_mu_delta=-1.0,
            true_sigma_delta=1.0,
            true_sigma_beta=0.2,
            true_sigma=0.3,
        ),
    ),
    Chapter(
        "m6param",
        2,
        typical_seconds=50,
        sampling=SamplerSettings(draws=1000, tune=1000, target_accept=0.95),
        defaults=_defaults(num_cell_lines_few=4, true_sigma_noisy=1.0),
    ),
    Chapter(
        "m6global",
        6,
        "global_intercept_zero_sum_genes",
        typical_seconds=39,
        sampling=SamplerSettings(draws=2000, tune=2000, target_accept=0.97, short_draws=500),
        defaults=_defaults(num_cell_lines=20, copy_number_rates=(1.0, 0.8, 1.2, 1.5, 2.0)),
        # The global intercept mixes slowly: with two chains its r-hat sits at
        # the 1.01 gate (1.011 to 1.012 on PyMC 6 / nutpie 0.16.11), so the
        # quick profile keeps four.
        profile_overrides={"quick": {"chains": 4}},
    ),
    Chapter(
        "m6corr",
        6,
        "correlated_effects",
        typical_seconds=131,
        sampling=SamplerSettings(draws=1000, tune=1000, target_accept=0.95),
        defaults=_defaults(
            num_genes=10,
            sgrnas_per_gene=5,
            num_cell_lines=20,
            true_rho=-0.6,
            true_sigma_alpha=0.5,
            true_sigma_beta=0.5,
            true_mu_gamma=-0.5,
            true_sigma_gamma=0.5,
            true_mu_delta=-1.0,
            true_sigma_delta=1.0,
            true_sigma=0.3,
        ),
    ),
    Chapter(
        "m7",
        8,
        "hierarchical_7c",
        typical_seconds=190,
        sampling=SamplerSettings(draws=1000, tune=1000, target_accept=0.9, short_draws=500),
        loo=True,
        defaults=_M7_DESIGN,
    ),
)

#: Chapters that fit several models to the same data and save a LOO comparison.
LOO_CHAPTERS: tuple[str, ...] = tuple(c.id for c in _SERIES if c.loo)

CHAPTERS: dict[str, Chapter] = {
    chapter.id: chapter
    for chapter in (
        *_SERIES,
        Chapter(
            "sbc",
            4,
            defaults=_defaults(),
            cell_timeout_seconds=3600,
            typical_seconds=341,
            runs_alone=True,
        ),
        Chapter(
            "ppc",
            4,
            sampling=SamplerSettings(draws=1000, tune=1000, target_accept=0.9),
            # model 7's design, and the heavy-tailed noise's degrees of freedom
            defaults=_defaults(**_M7_DESIGN, noise_df=3.0),
            typical_seconds=120,
        ),
        Chapter("loo", 1, reads=LOO_CHAPTERS, typical_seconds=7),
        Chapter(
            "screen",
            10,
            # NUTS on a gene sample (the count model and the series' model,
            # normal genes), the genome on a grid. Four chains, the book's
            # default: with two the largest r-hat of 800 gene effects crossed
            # 1.01. The sample is 300 genes: every shared parameter is fitted
            # again to every gene, the sample only starts that fit and checks
            # the grid. 4 x 1000 draws: with 4 x 2000 both fits passed with
            # the largest r-hat 1.003 and bulk ESS >= 3,200, and took 158 and
            # 100 s (the chapter 548 s alone, over its 8 minutes)
            sampling=SamplerSettings(draws=1000, tune=500, chains=4, target_accept=0.8),
            defaults=_defaults(
                counts_file="",
                plasmid="",
                library_file="",
                segments_file="",
                essential_file="",
                non_essential_file="",
                sample_genes=300,
                min_plasmid_reads=30,
            ),
            profile_overrides={
                # the quick profile's own 2 x (2000 + 2000) would be two chains
                "quick": {
                    "sample_genes": 150,
                    "draws": 1000,
                    "tune": 500,
                    "chains": 4,
                    "predictive_draws": 30,
                    "grid_draws": 2,
                    "hierarchy_draws": 2,
                    "check_draws": 20,
                    # the peers take 2-3 minutes on the whole screen: the
                    # tests run them on a small screen of their own
                    "peers": False,
                    "bootstrap_draws": 200,
                }
            },
            typical_seconds=430,
        ),
        Chapter(
            "bench",
            1,
            defaults=_defaults(),
            cell_timeout_seconds=3600,
            typical_seconds=190,
            runs_alone=True,
        ),
    )
}


def chapter_facts(chapter: str) -> Chapter:
    """The registry entry of ``chapter``; refuses unknown ids."""
    check_choice("chapter", chapter, tuple(CHAPTERS))
    return CHAPTERS[chapter]


def changed_defaults(chapter: str, values: Mapping[str, object]) -> dict[str, tuple]:
    """The data-deciding parameters whose value in ``values`` (a chapter's
    namespace) differs from the chapter's default: ``{name: (default, value)}``."""
    return {
        name: (default, values[name])
        for name, default in chapter_facts(chapter).defaults.items()
        if name in values and values[name] != default
    }
