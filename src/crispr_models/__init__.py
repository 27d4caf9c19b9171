"""Helpers shared by the CRISPR model-experiment notebooks.

- :mod:`crispr_models.simulation`: simulated data with known truth
- :mod:`crispr_models.models`: PyMC model builders
- :mod:`crispr_models.fitting`: prior predictive, NUTS and posterior predictive
- :mod:`crispr_models.diagnostics`: convergence report and recovery table
- :mod:`crispr_models.plotting`: the shared figures
- :mod:`crispr_models.artifacts`: NetCDF and summary.csv beside a run
"""

import warnings

# ArviZ 0.x announces its 1.0 refactor on every import; the book pins arviz<1.
warnings.filterwarnings("ignore", category=FutureWarning, module="arviz")

# pip-installed PyTensor finds no BLAS to link its C code to. Only the
# predictive draws use that code (nutpie samples through numba), so the
# warning is noise in every chapter.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS", category=UserWarning)

__version__ = "0.1.0"
