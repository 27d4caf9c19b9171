"""Checks of a fit or a model: convergence and recovery, predictive checks,
simulation-based calibration, cross-validation and the sampler benchmark.
"""
