"""Fit artifacts written beside an executed notebook.

``crispr-models run`` passes each notebook an ``artifacts_dir``; the notebook
saves every model it fits there as one NetCDF file named after the model (an
ArviZ ``DataTree``: ``arviz.from_netcdf(path)`` reads it back), and one
``summary.csv`` with a row per parameter of every model, whose ``status``
column says whether the fit is one to use or a pathological variant fitted
to show a problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xarray as xr

from crispr_models.checks.diagnostics import SUMMARY_COLUMNS, LooComparison
from crispr_models.core.registry import GENERATED_DIR, LOO_TABLES

SUMMARY_FILE = "summary.csv"


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary sibling, then rename it to ``path``: an
    interrupted write never leaves a truncated file under the real name."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _check_file_stem(parameter: str, name: str) -> None:
    """File names stay plain: letters, digits and underscores."""
    if not name.isidentifier():
        raise ValueError(
            f"{parameter} must be a Python identifier (letters, digits, _), got {name!r}"
        )


def save_table(artifacts_dir: str | Path | None, name: str, table: pd.DataFrame) -> Path | None:
    """Write ``table`` as ``<name>.csv`` (no index); nothing without a directory."""
    if not artifacts_dir:
        return None
    _check_file_stem("name", name)
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas.DataFrame, got {type(table).__name__}")
    directory = Path(artifacts_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.csv"
    _write_atomically(path, lambda partial: table.to_csv(partial, index=False))
    return path


def save_fit(
    artifacts_dir: str | Path | None, fit_name: str, idata: xr.DataTree, table: pd.DataFrame
) -> Path | None:
    """Write ``<fit_name>.nc`` and merge ``table`` into ``summary.csv``.

    Rows of an earlier save of the same model are replaced, so re-running a
    cell does not duplicate them. With no ``artifacts_dir`` (an interactive
    session) nothing is written and ``None`` is returned.
    """
    if not artifacts_dir:
        return None
    _check_file_stem("fit_name", fit_name)
    missing = set(SUMMARY_COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"table is missing column(s) {sorted(missing)}; use recovery_table()")
    directory = Path(artifacts_dir)
    directory.mkdir(parents=True, exist_ok=True)
    netcdf_path = directory / f"{fit_name}.nc"
    _write_atomically(netcdf_path, lambda partial: idata.to_netcdf(str(partial), engine="h5netcdf"))

    summary_path = directory / SUMMARY_FILE
    rows = table[SUMMARY_COLUMNS]
    if summary_path.exists():
        earlier = pd.read_csv(summary_path)
        rows = pd.concat([earlier[earlier["fit"] != fit_name], rows], ignore_index=True)
    _write_atomically(summary_path, lambda partial: rows.to_csv(partial, index=False))
    return netcdf_path


def save_loo_comparison(
    artifacts_dir: str | Path | None, chapter: str, comparison: LooComparison
) -> None:
    """Write ``loo_comparison.csv`` and ``loo_pareto_k.csv``, each with a
    ``chapter`` column, for the model-comparison chapter to collect."""
    if not isinstance(comparison, LooComparison):
        raise TypeError(f"comparison must be a LooComparison, got {type(comparison).__name__}")
    comparison_table, pareto_k_table = LOO_TABLES
    save_table(artifacts_dir, comparison_table, comparison.table.assign(chapter=chapter))
    save_table(artifacts_dir, pareto_k_table, comparison.pareto_k.assign(chapter=chapter))


def collect_tables(generated_dir: str | Path, chapters: tuple[str, ...], name: str) -> pd.DataFrame:
    """Concatenate ``<generated_dir>/<chapter>/<name>.csv`` over ``chapters``.

    For chapters that gather what others computed (the model comparison);
    a missing file names the chapter to run first.
    """
    frames = []
    for chapter in chapters:
        path = Path(generated_dir) / chapter / f"{name}.csv"
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: run chapter {chapter} first (crispr-models run {chapter})"
            )
        frames.append(pd.read_csv(path))
    return pd.concat(frames, ignore_index=True)


def generated_dir(artifacts_dir: str | Path | None) -> Path:
    """The folder holding every chapter's outputs: the parent of this run's
    ``artifacts_dir``, or, in an interactive session, the nearest
    ``book/generated`` at or above the working folder."""
    if artifacts_dir:
        return Path(artifacts_dir).parent
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / GENERATED_DIR).is_dir():
            return folder / GENERATED_DIR
    raise FileNotFoundError(f"no {GENERATED_DIR} at or above {here}: run the chapters first")
