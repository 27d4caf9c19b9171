"""The science of the book, the only package its chapters import, in folders
by role:

- :mod:`crispr_models.core`: sampler settings, fitting, the one-call
  workflow, artifacts, prose, the registry of chapter facts, input checks
- :mod:`crispr_models.series`: simulated screens and the models m1 to m7
- :mod:`crispr_models.checks`: convergence and recovery, predictive checks,
  calibration, cross-validation, the sampler benchmark
- :mod:`crispr_models.screen`: a real screen, from its files to its calls
- :mod:`crispr_models.plots`: every figure, by audience
"""

import warnings

# PyTensor 3 compiles with numba; an operation numba cannot compile (seen in
# the LKJ prior of m6corr) falls back to PyTensor's C code, which finds no
# BLAS in a pip install and says so once per process. Sampling itself runs
# on numba, so the notice is noise in the chapters.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS", category=UserWarning)

__version__ = "0.1.0"
