"""Where a chapter's run spends its time: the whole command, repeated.

    .venv/bin/python benchmarks/chapter_profile.py m2 --repeats 3

Runs ``crispr-models run <chapter> --profile full`` ``--repeats`` times (the
first may pay for cold caches) into a temporary folder and prints, per run,
the command's wall time split into: the command and kernel start (what no
cell accounts for), the imports cell, the fit cells (nutpie's compile and
sampling from the saved fit, the rest: prior and posterior predictive draws,
convergence and recovery tables), the figure cells and the other cells.
Run it on an otherwise idle machine: the figures are seconds.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import arviz as az
import nbformat
import pandas as pd

from crispr_models.core.registry import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]


def _kind(source: str) -> str:
    if source.startswith(("import ", "from ")) and "\nimport" in "\n" + source:
        return "imports"
    if "experiment.fit(" in source or "fit_and_check(" in source:
        return "fit"
    if re.search(r"\bplot_\w+\(", source) or "model_to_graphviz" in source:
        return "figures"
    return "other cells"


def profile_once(chapter: str, out: Path) -> dict[str, float]:
    start = time.perf_counter()
    command = [sys.executable, "-m", "crispr_book", "--root", str(ROOT), "run", chapter]
    command += ["--profile", "full", "--no-progress", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    total = time.perf_counter() - start
    notebook = nbformat.read(out / f"{chapter}.ipynb", as_version=4)
    row = {"whole command": total}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            seconds = cell.metadata.get("papermill", {}).get("duration") or 0.0
            kind = _kind(cell.source)
            row[kind] = row.get(kind, 0.0) + seconds
    fit_name = CHAPTERS[chapter].fit_name
    if fit_name:
        attrs = az.from_netcdf(out / chapter / f"{fit_name}.nc").posterior.attrs
        row["nutpie compile"] = float(attrs["compile_time"])
        row["sampling"] = float(attrs["sampling_time"])
        row["fit: predictive draws, tables"] = (
            row.get("fit", 0.0) - row["nutpie compile"] - row["sampling"]
        )
    cells = sum(v for k, v in row.items() if k in ("imports", "fit", "figures", "other cells"))
    row["command and kernel start"] = total - cells
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", nargs="?", default="m2")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        rows = [profile_once(args.chapter, Path(folder)) for _ in range(args.repeats)]
    table = pd.DataFrame(rows).T
    table.columns = [f"run {i + 1}" for i in range(args.repeats)]
    print(f"{args.chapter}, full profile, seconds")
    print(table.round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
