"""Execute notebooks (jupytext -> papermill) and build the book.

A failed notebook is kept where it ran, with the error in its failing cell,
and reported as ``<id>: cell <n> failed ...`` so the reader knows where to
look.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from crispr_models.notebooks import Notebook

GENERATED_DIR = Path("book") / "generated"
KERNEL_NAME = "python3"


class NotebookFailed(RuntimeError):
    """A notebook raised during execution; the message names it and the cell."""


class BookBuildFailed(RuntimeError):
    """jupyter-book exited non-zero."""


class MissingDependency(RuntimeError):
    """A program the notebooks need is not installed."""


def check_graphviz() -> None:
    """The model graphs need Graphviz's ``dot``; say so before a kernel starts."""
    if shutil.which("dot") is None:
        raise MissingDependency(
            "Graphviz's 'dot' program is missing; the model graphs need it. "
            "Install it with 'apt-get install graphviz' (Debian/Ubuntu), "
            "'brew install graphviz' (macOS) or 'conda install graphviz'."
        )


@dataclass(frozen=True)
class RunResult:
    notebook_id: str
    executed_path: Path
    artifacts_dir: Path
    seconds: float


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0][:80] if lines else ""


def _papermill_values(parameters: dict) -> dict:
    """Tuples as lists: papermill writes a tuple into the notebook as its
    string ("('m1',)"), a list as a list."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in parameters.items()}


def run_notebook(
    notebook: Notebook,
    parameters: dict[str, Any],
    out_dir: Path,
    *,
    progress_bar: bool = True,
    cwd: Path | None = None,
) -> RunResult:
    """Execute ``notebook`` with ``parameters`` into ``out_dir``.

    Writes ``out_dir/<id>.ipynb`` and the notebook's fit artifacts under
    ``out_dir/<id>/`` (cleared first, so no stale file survives a re-run).
    ``parameters`` must already be checked (:meth:`Notebook.resolve`).
    """
    check_graphviz()
    out_dir = Path(out_dir).resolve()
    artifacts_dir = out_dir / notebook.id
    if artifacts_dir.exists():
        shutil.rmtree(artifacts_dir)
    artifacts_dir.mkdir(parents=True)
    executed_path = out_dir / f"{notebook.id}.ipynb"

    source = jupytext.read(notebook.path)
    source.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3",
        "language": "python",
    }
    cwd = Path(cwd or notebook.path.parent).resolve()
    # Relative where possible: the injected cell is shown in the book.
    shown_dir = (
        os.path.relpath(artifacts_dir, cwd) if artifacts_dir.is_relative_to(cwd) else artifacts_dir
    )
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            source,
            str(executed_path),
            parameters={**_papermill_values(parameters), "artifacts_dir": str(shown_dir)},
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=progress_bar,
            cwd=str(cwd),
            # ipykernel 7 warns on every start that loopback TCP is unencrypted.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as error:
        cell = f"In [{error.exec_count}]"
        raise NotebookFailed(
            f"{notebook.id}: cell {cell} failed with {error.ename}: {error.evalue}\n"
            f"  cell starts: {_first_line(error.source)}\n"
            f"  the failed notebook is kept at {executed_path}"
        ) from error
    return RunResult(notebook.id, executed_path, artifacts_dir, time.perf_counter() - start)


def cells_with_errors(executed_path: Path) -> list[int]:
    """Execution counts of cells whose stored outputs hold an error."""
    notebook = nbformat.read(executed_path, as_version=4)
    return [
        cell.get("execution_count")
        for cell in notebook.cells
        if cell.cell_type == "code"
        and any(output.get("output_type") == "error" for output in cell.get("outputs", []))
    ]


def build_book(root: Path) -> Path:
    """``jupyter-book build`` with warnings as errors; returns ``_build/html``.

    The notebooks are not executed here (``execute_notebooks: "off"``): the
    run command has already executed them into ``book/generated``.
    """
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book if jupyter_book.exists() else "jupyter-book")]
    command += ["build", str(root), "--warningiserror", "--keep-going"]
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if completed.returncode != 0:
        raise BookBuildFailed(
            f"jupyter-book build failed (exit {completed.returncode}):\n"
            f"{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
        )
    return root / "_build" / "html"
