"""The model each chapter recommends, on the data of the chapter's defaults.

The validation chapters (calibration, sampler benchmark) need each chapter's
final model without running the chapter. Every entry simulates with the
chapter's default parameters and seed (103) and builds the model the chapter
ends with, with the ``target_accept`` it uses. A chapter whose defaults change
should change its entry here too; ``tests/test_recommended.py`` compares them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm

from crispr_models import models, simulation
from crispr_models.validation import check_choice

SEED = 103


@dataclass(frozen=True)
class RecommendedModel:
    """One chapter's final model: how to build it and how the chapter samples it."""

    chapter: str
    description: str
    simulate: Callable[[], simulation.SimulatedData]
    build: Callable[[pd.DataFrame], pm.Model]
    target_accept: float
    #: Parameters the chapter reports (the non-centred ``_z`` helpers left out).
    var_names: tuple[str, ...]

    def model(self) -> pm.Model:
        """The model on the chapter's default data."""
        return self.build(self.simulate().observations)


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
            models.single_gene_rna_model,
            0.8,
            ("alpha", "beta", "sigma"),
        ),
        RecommendedModel(
            "m2",
            "genes with varying intercept and RNA slope",
            lambda: simulation.simulate_multigene_rna(np.random.RandomState(SEED)),
            models.multigene_rna_model,
            0.9,
            ("mu_alpha", "sigma_alpha", "mu_beta", "sigma_beta", "alpha", "beta", "sigma"),
        ),
        RecommendedModel(
            "m3",
            "gene-level predictor of the intercepts",
            lambda: simulation.simulate_gene_level_predictor(_rng()),
            models.gene_level_predictor_model,
            0.8,
            ("mu_gamma", "delta", "sigma_gamma", "mu_beta", "sigma_beta", "sigma"),
        ),
        RecommendedModel(
            "m4",
            "gene intercepts and slopes, zero-sum cell lines",
            lambda: simulation.simulate_gene_cell_line_rna(_rng()),
            lambda data: models.gene_cell_line_rna_model(data, cell_line_effect="zero_sum"),
            0.8,
            ("mu_alpha", "sigma_alpha", "sigma_gamma", "mu_beta", "sigma_beta", "sigma"),
        ),
        RecommendedModel(
            "m5",
            "sgRNAs in genes, zero-sum cell lines",
            lambda: simulation.simulate_sgrna_cell_line(_rng()),
            lambda data: models.sgrna_cell_line_model(data, cell_line_effect="zero_sum"),
            0.8,
            ("mu_gamma", "sigma_gamma", "sigma_alpha", "sigma_beta", "sigma"),
        ),
        RecommendedModel(
            "m6",
            "sgRNA intercepts and copy-number slopes, raw copy number, non-centred",
            lambda: simulation.simulate_sgrna_copy_number(np.random.RandomState(SEED)),
            lambda data: models.sgrna_copy_number_model(
                data, covariate="cna", parameterization="non_centred"
            ),
            0.97,
            (*_M6_SCALARS, "sigma", "gamma", "delta", "alpha", "beta"),
        ),
        RecommendedModel(
            "m6global",
            "model 6 with a global intercept and zero-sum genes",
            lambda: simulation.simulate_sgrna_copy_number(
                _rng(), copy_number_rates=(1.0, 0.8, 1.2, 1.5, 2.0)
            ),
            lambda data: models.sgrna_copy_number_model(data, global_intercept="zero_sum"),
            0.97,
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
            models.correlated_sgrna_copy_number_model,
            0.95,
            (*_M6_SCALARS, "rho", "sigma", "gamma", "delta", "alpha", "beta"),
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
            0.9,
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
        ),
    )
}


def recommended_model(chapter: str) -> RecommendedModel:
    """The entry for ``chapter`` (``"m6corr"``, ...); refuses unknown ids."""
    check_choice("chapter", chapter, tuple(RECOMMENDED))
    return RECOMMENDED[chapter]
