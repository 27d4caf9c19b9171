"""The book machinery: discover, run and publish the chapters, build the book.

Chapters never import this package (a ruff rule enforces it); they import
the science, :mod:`crispr_models`.
"""
