"""The book's figure style, shared by every figure: palette, labels, theme."""

from __future__ import annotations

import numpy as np
import plotnine as gg

TRUE_LINE = "dashed"


#: Axis labels of the simulated data's columns, for every figure that plots them.
COLUMN_LABELS = {
    "rna": "RNA expression (z-score)",
    "cna": "copy number",
    "cna_diploid": "copy number minus 2 (0: diploid)",
    "cna_z": "copy number, z-scored within gene",
    "cell_line": "cell line",
    "sgrna": "sgRNA",
}


#: The book's one palette. Posterior (and anything the model says) blue,
#: truth red, observed data black, reference bands grey; categorical colours
#: (genes, samplers, parameterisations) use plotnine's default hue scale.
POSTERIOR = "#3b75af"


TRUTH = "#c0392b"


OBSERVED = "black"


BAND = "#cccccc"


def theme_crispr(base_size: int = 11) -> gg.theme:
    """The book's plotnine theme: minimal, legible, fixed figure size."""
    return gg.theme_minimal(base_size=base_size) + gg.theme(
        figure_size=(7, 4.5),
        plot_title=gg.element_text(weight="bold"),
        legend_position="right",
    )


def _evenly_spaced(total: int, num: int) -> np.ndarray:
    """Indices of ``num`` samples spread evenly over ``total`` stacked draws.

    Deterministic on purpose: the same posterior always gives the same figure.
    """
    return np.unique(np.linspace(0, total - 1, num=min(num, total)).astype(int))
