"""The model series: simulated screens with known truth and the PyMC models
fitted to them.
"""
