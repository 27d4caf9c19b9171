"""Helpers shared by the CRISPR model-experiment notebooks.

- :mod:`crispr_models.simulation`: simulated data with known truth
- :mod:`crispr_models.models`: PyMC model builders
- :mod:`crispr_models.fitting`: prior predictive, NUTS and posterior predictive
- :mod:`crispr_models.diagnostics`: convergence report and recovery table
- :mod:`crispr_models.plotting`: the shared figures
- :mod:`crispr_models.artifacts`: NetCDF and summary.csv beside a run
"""

import warnings

# PyTensor 3 compiles with numba; an operation numba cannot compile (seen in
# the LKJ prior of m6corr) falls back to PyTensor's C code, which finds no
# BLAS in a pip install and says so once per process. Sampling itself runs
# on numba, so the notice is noise in the chapters.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS", category=UserWarning)

__version__ = "0.1.0"
