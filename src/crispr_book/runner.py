"""Execute notebooks (jupytext -> papermill) and build the book.

Each run executes into a fresh hidden folder beside the outputs
(``<out>/.<id>-<stamp>/``) and is published only when it succeeded, by
pointing two symbolic links at it: ``<out>/<id>.ipynb`` (the executed
notebook) and ``<out>/<id>/`` (its fit artifacts). Replacing a link is
atomic, so an interrupted run (Ctrl-C, a killed kernel or runner) leaves the
previous good outputs in place and nothing half-written where the book looks.

A failed notebook is kept in ``<out>/<id>.failed/`` with the error in its
failing cell, and reported as ``<id>: cell In [n] failed ...``; until a later
run succeeds, the book refuses to publish that chapter.

Beside each published run, ``run.json`` records a hash of everything the run
depended on (the notebook's source, the science package's code (:mod:`crispr_models`), the
parameters, the installed packages, and files it reads from other chapters),
so ``crispr-models book`` re-executes only what changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import signal
import site
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import papermill
import psutil
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

import crispr_models
from crispr_book.discovery import Notebook, chapter_inputs
from crispr_models.core.input_checks import check_positive_int

KERNEL_NAME = "python3"


class _KnownSettingsFilter(logging.Filter):
    """papermill warns of a parameter the parameters cell does not assign; the
    sampler settings the registry keeps (``draws``, ...) are such parameters
    by design, and every ``-p`` value was checked before the kernel started."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Passed unknown parameter")


logging.getLogger("papermill").addFilter(_KnownSettingsFilter())
MANIFEST_FILE = "run.json"


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


# --- what a run depends on ---------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _science_code_hash() -> str:
    """The science package's Python files, names and contents: what chapters
    import. The book machinery (this package) is left out, so editing the
    runner or the command line re-executes nothing."""
    package = Path(crispr_models.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def _dependencies_hash() -> str:
    """Python's version and every installed distribution's name and version:
    the environment the kernel runs in, as locked as it gets."""
    # The site-packages folders only: sys.path can gain folders at run time
    # (importing setuptools adds its _vendor folder, with a dozen vendored
    # distributions), which would make the same environment hash differently.
    installed = sorted(
        f"{(dist.metadata['Name'] or '').lower()}=={dist.version}"
        for dist in importlib.metadata.distributions(path=site.getsitepackages())
    )
    return _sha256("\n".join([sys.version, *installed]).encode())


def run_inputs(notebook: Notebook, parameters: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """A hash per input of a run; a run is up to date when none changed."""
    inputs = {
        "notebook source": _sha256(notebook.path.read_bytes()),
        "science code": _science_code_hash(),
        "parameters": _sha256(json.dumps(_papermill_values(parameters), sort_keys=True).encode()),
        "installed packages": _dependencies_hash(),
    }
    for relative in chapter_inputs(notebook.id):
        path = Path(out_dir) / relative
        inputs[relative] = _sha256(path.read_bytes()) if path.exists() else "missing"
    return inputs


# --- where a run's outputs live ----------------------------------------------


def executed_notebook_path(out_dir: Path, notebook_id: str) -> Path:
    return Path(out_dir) / f"{notebook_id}.ipynb"


def failed_run_dir(out_dir: Path, notebook_id: str) -> Path:
    return Path(out_dir) / f"{notebook_id}.failed"


def _link_targets(out_dir: Path, notebook_id: str) -> tuple[Path | None, Path | None]:
    """Where the artifacts link and the notebook link point (None: no link)."""
    artifacts_link = Path(out_dir) / notebook_id
    notebook_link = executed_notebook_path(out_dir, notebook_id)
    return (
        artifacts_link.resolve() if artifacts_link.is_symlink() else None,
        notebook_link.resolve() if notebook_link.is_symlink() else None,
    )


def published_run_dir(out_dir: Path, notebook_id: str) -> Path | None:
    """The folder of the notebook's published run, if both links agree on one."""
    run_dir, notebook = _link_targets(out_dir, notebook_id)
    if run_dir is None or notebook != run_dir / f"{notebook_id}.ipynb":
        return None  # no run, or interrupted between the two links
    return run_dir if (run_dir / MANIFEST_FILE).exists() else None


def published_manifest(out_dir: Path, notebook_id: str) -> dict[str, Any] | None:
    run_dir = published_run_dir(out_dir, notebook_id)
    return json.loads((run_dir / MANIFEST_FILE).read_text()) if run_dir else None


def changed_inputs(
    notebook: Notebook, parameters: dict[str, Any], out_dir: Path
) -> list[str] | None:
    """Which inputs changed since the published run: ``[]`` when it is up to
    date, ``None`` when there is no published run (or its last run failed)."""
    manifest = published_manifest(out_dir, notebook.id)
    if manifest is None or failed_run_dir(out_dir, notebook.id).exists():
        return None
    current = run_inputs(notebook, parameters, out_dir)
    recorded = manifest.get("inputs", {})
    names = current.keys() | recorded.keys()
    return sorted(name for name in names if current.get(name) != recorded.get(name))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _linked_run_dirs(out_dir: Path, notebook_id: str) -> set[Path]:
    """The run folders the two links point at (two only if a runner was
    killed between switching them)."""
    run_dir, notebook = _link_targets(out_dir, notebook_id)
    return {folder for folder in (run_dir, notebook and notebook.parent) if folder is not None}


def _remove_stale_runs(out_dir: Path, notebook_id: str) -> None:
    """Folders of earlier runs that no link points at and no live runner
    owns (left by a killed runner)."""
    linked = _linked_run_dirs(out_dir, notebook_id)
    for folder in Path(out_dir).glob(f".{notebook_id}-*"):
        stamp_pid = folder.name.rsplit("-", 1)[-1]
        running = stamp_pid.isdigit() and _pid_alive(int(stamp_pid))
        if folder not in linked and not running and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def _point(link: Path, target: str) -> None:
    """Make ``link`` a symbolic link to ``target`` in one atomic rename."""
    if link.exists() and not link.is_symlink() and link.is_dir():
        # a real folder from before runs were published by links
        shutil.rmtree(link)
    temporary = link.with_name(f".{link.name}.link-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    os.replace(temporary, link)


def _publish(out_dir: Path, notebook_id: str, run_dir: Path) -> None:
    previous = _linked_run_dirs(out_dir, notebook_id) - {run_dir}
    _point(Path(out_dir) / notebook_id, run_dir.name)
    _point(executed_notebook_path(out_dir, notebook_id), f"{run_dir.name}/{notebook_id}.ipynb")
    shutil.rmtree(failed_run_dir(out_dir, notebook_id), ignore_errors=True)
    for folder in previous:
        shutil.rmtree(folder, ignore_errors=True)


def _keep_failed(out_dir: Path, notebook_id: str, run_dir: Path) -> Path:
    failed = failed_run_dir(out_dir, notebook_id)
    shutil.rmtree(failed, ignore_errors=True)
    run_dir.rename(failed)
    return failed / f"{notebook_id}.ipynb"


# --- running -----------------------------------------------------------------


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0][:80] if lines else ""


def _papermill_values(parameters: dict) -> dict:
    """Tuples as lists: papermill writes a tuple into the notebook as its
    string ("('m1',)"), a list as a list."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in parameters.items()}


def _last_started_cell(executed_path: Path) -> tuple[str, str]:
    """``In [n]`` and first line of the last cell papermill started.

    Papermill saves a cell's start time before running it; a kernel killed at
    once may leave that cell without an execution count, and then its count is
    the one after the previous cell's (one count per cell in a fresh kernel).
    """
    if not executed_path.exists():
        return "unknown", ""
    started = [
        cell
        for cell in nbformat.read(executed_path, as_version=4).cells
        if cell.cell_type == "code" and cell.metadata.get("papermill", {}).get("start_time")
    ]
    if not started:
        return "unknown", ""
    counts = [c.execution_count for c in started[:-1] if c.execution_count is not None]
    count = started[-1].execution_count or (max(counts, default=0) + 1)
    return f"In [{count}]", _first_line(started[-1].source)


def _failure_message(
    notebook: Notebook, error: Exception, staged: Path, kept: Path, timeout: int
) -> str:
    if isinstance(error, PapermillExecutionError):
        cell, first_line = f"In [{error.exec_count}]", _first_line(error.source)
        what = f"failed with {error.ename}: {error.evalue}"
    else:
        cell, first_line = _last_started_cell(staged)
        if isinstance(error, CellTimeoutError):
            what = (
                f"did not finish within the {timeout} s cell timeout "
                "(a stuck kernel, or a longer run: raise it with --cell-timeout SECONDS)"
            )
        else:
            what = "lost its kernel (killed, or out of memory)"
    return (
        f"{notebook.id}: cell {cell} {what}\n"
        f"  cell starts: {first_line}\n"
        f"  the failed notebook is kept at {kept}"
    )


def _source_notebook(notebook: Notebook) -> nbformat.NotebookNode:
    source = jupytext.read(notebook.path)
    source.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3",
        "language": "python",
    }
    return source


def _shown_path(path: Path, cwd: Path) -> str:
    """Relative where possible: the injected parameters cell is shown in the book."""
    return str(os.path.relpath(path, cwd) if path.is_relative_to(cwd) else path)


def _show_published_path(executed: Path, staged_dir: str, published_dir: str) -> None:
    """The injected parameters cell names the folder the artifacts are
    published under (a link to the run's folder), not the run's own name."""
    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace(repr(staged_dir), repr(published_dir))
            cell.source = cell.source.replace(json.dumps(staged_dir), json.dumps(published_dir))
    nbformat.write(notebook, executed)


#: How long an interrupted run waits for papermill to notice its kernel died.
INTERRUPT_GRACE_SECONDS = 30

#: Set when Ctrl-C stops runs going on in other threads (``book --jobs``):
#: their kernels die, and each run then discards its folder as interrupted
#: instead of keeping it as failed.
_interrupted = threading.Event()


def interrupt_runs() -> None:
    """Stop every run of this process: mark them interrupted, kill the kernels."""
    _interrupted.set()
    _kill_kernels()


def _kill_kernels() -> None:
    """Kill this process's children: the kernels papermill started (and
    whatever they started)."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(children, timeout=5)


def _execute_interruptibly(*args: Any, **kwargs: Any) -> None:
    """``papermill.execute_notebook`` in a worker thread, so Ctrl-C always stops it.

    nbclient answers SIGINT only while its kernel context is open (an asyncio
    signal handler that shuts the kernel down in the background), so an
    interrupt that lands while the kernel starts, a cell runs or the notebook
    is saved could be lost and leave the run waiting for its cell for good.
    Here the main thread only waits: SIGINT always raises
    ``KeyboardInterrupt`` in it (nbclient installs no handler outside the main
    thread). It then kills the kernels, lets papermill see its kernel die
    (for at most :data:`INTERRUPT_GRACE_SECONDS`, with further Ctrl-C
    ignored meanwhile, so the partial run is not left half-cleaned) and
    re-raises.
    """
    outcome: dict[str, BaseException] = {}

    def execute() -> None:
        try:
            papermill.execute_notebook(*args, **kwargs)
        except BaseException as error:  # handed to the main thread
            outcome["error"] = error

    worker = threading.Thread(target=execute, name="papermill", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            _kill_kernels()
            worker.join(INTERRUPT_GRACE_SECONDS)
        finally:
            signal.signal(signal.SIGINT, previous)
        raise
    if "error" in outcome:
        raise outcome["error"]


def run_notebook(
    notebook: Notebook,
    parameters: dict[str, Any],
    out_dir: Path,
    *,
    progress_bar: bool = True,
    cwd: Path | None = None,
    cell_timeout_seconds: int | None = None,
) -> RunResult:
    """Execute ``notebook`` with ``parameters`` and publish it under ``out_dir``.

    On success ``out_dir/<id>.ipynb`` and ``out_dir/<id>/`` (fit artifacts,
    ``run.json``) show the new run; on failure, interruption or timeout they
    still show the previous one. ``parameters`` must already be checked
    (:meth:`Notebook.resolve`).
    """
    check_graphviz()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    timeout = check_positive_int(
        "cell_timeout_seconds", cell_timeout_seconds or notebook.cell_timeout_seconds
    )
    _remove_stale_runs(out_dir, notebook.id)
    inputs = run_inputs(notebook, parameters, out_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    run_dir = out_dir / f".{notebook.id}-{stamp}-{os.getpid()}"
    run_dir.mkdir()
    staged = run_dir / f"{notebook.id}.ipynb"
    cwd = Path(cwd or notebook.path.parent).resolve()
    staged_dir = _shown_path(run_dir, cwd)
    start = time.perf_counter()
    try:
        _execute_interruptibly(
            _source_notebook(notebook),
            str(staged),
            parameters={**_papermill_values(parameters), "artifacts_dir": staged_dir},
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=progress_bar,
            cwd=str(cwd),
            execution_timeout=timeout,
            # ipykernel 7 warns on every start that loopback TCP is unencrypted.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            # every output is in by then; a graceful shutdown waits seconds more
            shutdown_kernel="immediate",
        )
    except (PapermillExecutionError, CellTimeoutError, DeadKernelError) as error:
        if _interrupted.is_set():  # its kernel was killed by Ctrl-C, not a fault
            shutil.rmtree(run_dir, ignore_errors=True)
            raise KeyboardInterrupt from error
        failed_notebook = failed_run_dir(out_dir, notebook.id) / staged.name
        message = _failure_message(notebook, error, staged, failed_notebook, timeout)
        _keep_failed(out_dir, notebook.id, run_dir)
        raise NotebookFailed(message) from error
    except BaseException:
        # Ctrl-C or a runner error: discard the partial run, keep the published one.
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    _show_published_path(staged, staged_dir, _shown_path(out_dir / notebook.id, cwd))
    manifest = {
        "notebook": notebook.id,
        "inputs": inputs,
        "parameters": _papermill_values(parameters),
        "seconds": round(seconds, 1),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (run_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    _publish(out_dir, notebook.id, run_dir)
    return RunResult(
        notebook.id,
        executed_notebook_path(out_dir, notebook.id),
        out_dir / notebook.id,
        seconds,
    )


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
