"""``crispr-models``: list, run and build the book's notebooks.

    crispr-models list
    crispr-models run m2 --profile quick -p num_genes 8 --out book/generated
    crispr-models book --profile full          # re-executes only what changed
    crispr-models book --force                 # re-executes every notebook

Bad input (an unknown notebook or parameter, a value the notebook cannot
accept) is refused with exit status 2 before any kernel starts; a failing
notebook or book build exits with status 1, naming the notebook and cell;
Ctrl-C exits with status 130 and leaves the previous outputs in place.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from crispr_book.__main__ import EXIT_INTERRUPTED, INTERRUPTED_MESSAGE
from crispr_book.discovery import (
    PROFILES,
    RUNNER_PARAMETERS,
    Notebook,
    NotebookNotFound,
    ParameterError,
    discover_notebooks,
    find_notebook,
    find_project_root,
)
from crispr_book.runner import (
    INTERRUPT_GRACE_SECONDS,
    BookBuildFailed,
    MissingDependency,
    NotebookFailed,
    build_book,
    cells_with_errors,
    changed_inputs,
    executed_notebook_path,
    failed_run_dir,
    interrupt_runs,
    published_manifest,
    published_run_dir,
    run_notebook,
)
from crispr_models.core.registry import CHAPTERS, DEFAULT_CELL_TIMEOUT_SECONDS, GENERATED_DIR

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _cell_timeout(text: str) -> int:
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be a positive number of seconds, got {text!r}"
        ) from None


def _add_cell_timeout(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--cell-timeout",
        type=_cell_timeout,
        default=None,
        metavar="SECONDS",
        help=(
            f"fail a cell that runs longer (default: {DEFAULT_CELL_TIMEOUT_SECONDS} s; "
            + ", ".join(
                f"{c.id}: {c.cell_timeout_seconds} s"
                for c in CHAPTERS.values()
                if c.cell_timeout_seconds != DEFAULT_CELL_TIMEOUT_SECONDS
            )
            + ")"
        ),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crispr-models",
        description="Run the CRISPR model-experiment notebooks and build the book.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="project folder (holding _toc.yml and notebooks/); default: found from here",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="the notebooks in book order, with their parameters")

    run = commands.add_parser("run", help="execute one notebook with parameters")
    run.add_argument("notebook", help="notebook id, e.g. m2")
    run.add_argument("--profile", choices=sorted(PROFILES), default="full")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="override a parameter of the notebook's parameters cell (repeatable)",
    )
    run.add_argument(
        "--out", type=Path, default=None, help=f"output folder (default: {GENERATED_DIR})"
    )
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_cell_timeout(run)

    book = commands.add_parser(
        "book",
        help="execute the notebooks whose inputs changed, then build the book",
        description=(
            "Execute each notebook whose source, science code (crispr_models), "
            "parameters, installed packages or inputs from other chapters changed "
            "since its last successful "
            "run (recorded in book/generated/<id>/run.json), then build the book."
        ),
    )
    book.add_argument("--profile", choices=sorted(PROFILES), default="full")
    book.add_argument(
        "--build-only",
        action="store_true",
        help="build from the notebooks already in book/generated",
    )
    book.add_argument("--force", action="store_true", help="re-execute every notebook")
    book.add_argument(
        "--jobs",
        type=_positive_int,
        default=os.cpu_count() or 1,
        metavar="N",
        help=(
            "run up to N independent chapters at once (default: the machine's cores, "
            f"{os.cpu_count() or 1}); a timing chapter runs alone, and a chapter that "
            "reads others' outputs after them"
        ),
    )
    book.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    _add_cell_timeout(book)
    return parser


def _list(root: Path) -> int:
    for notebook in discover_notebooks(root):
        print(f"{notebook.id}  {notebook.title}  ({notebook.path.relative_to(root)})")
        for parameter in notebook.parameters.values():
            if parameter.name in RUNNER_PARAMETERS:
                continue
            note = f"  # {parameter.description}" if parameter.description else ""
            print(f"    {parameter.name} = {parameter.default!r}{note}")
    return 0


def _run(root: Path, args: argparse.Namespace) -> int:
    notebook = find_notebook(root, args.notebook)
    overrides = dict(args.parameter)
    if len(overrides) != len(args.parameter):
        raise ParameterError("a parameter was given twice with -p")
    parameters = notebook.resolve(args.profile, overrides)
    out_dir = args.out or root / GENERATED_DIR
    result = run_notebook(
        notebook,
        parameters,
        out_dir,
        progress_bar=not args.no_progress,
        cwd=root,
        cell_timeout_seconds=args.cell_timeout,
    )
    print(f"{notebook.id}: executed in {result.seconds:.1f} s -> {result.executed_path}")
    print(f"{notebook.id}: fit artifacts in {result.artifacts_dir}")
    return 0


def _unpublishable(root: Path, notebook_ids: list[str]) -> list[str]:
    """Why each notebook's outputs may not go into the book (none, failed)."""
    out_dir = root / GENERATED_DIR
    problems = []
    for notebook_id in notebook_ids:
        failed = failed_run_dir(out_dir, notebook_id)
        if failed.exists():
            problems.append(
                f"{notebook_id} failed in its last run (kept at {failed}); rerun it "
                f"(crispr-models run {notebook_id})"
            )
        elif published_run_dir(out_dir, notebook_id) is None:
            problems.append(f"{notebook_id} has not been run (crispr-models run {notebook_id})")
        elif errors := cells_with_errors(executed_notebook_path(out_dir, notebook_id)):
            cells = ", ".join(f"In [{n}]" for n in errors)
            problems.append(f"{notebook_id} holds an error in cell {cells}; rerun it")
    return problems


def _why_run(out_dir: Path, notebook_id: str, changed: list[str] | None) -> str:
    if failed_run_dir(out_dir, notebook_id).exists():
        return "its last run failed"
    if changed is None:
        return "no successful run yet"
    return "changed: " + ", ".join(changed)


class _Schedule:
    """Which chapters may start: after the chapters whose outputs they read,
    the longest first (so two workers finish together), and a chapter that
    measures time last, with nothing beside it."""

    def __init__(self, notebook_ids: list[str], seconds: dict[str, float] | None = None) -> None:
        self.pending = list(notebook_ids)
        self.running: set[str] = set()
        #: Expected seconds per chapter: its last run's, else the registry's.
        self.seconds = seconds or {}

    @staticmethod
    def _facts(notebook_id: str):
        return CHAPTERS.get(notebook_id)

    def _waits_for(self, notebook_id: str) -> set[str]:
        facts = self._facts(notebook_id)
        reads = set(facts.reads) if facts else set()
        return reads & (set(self.pending) | self.running)

    def _alone(self, notebook_id: str) -> bool:
        facts = self._facts(notebook_id)
        return bool(facts and facts.runs_alone)

    def _expected(self, notebook_id: str) -> float:
        facts = self._facts(notebook_id)
        return self.seconds.get(notebook_id, facts.typical_seconds if facts else 60.0)

    def next_ready(self, jobs: int) -> str | None:
        """The next chapter to start now, or None."""
        if len(self.running) >= jobs or any(self._alone(r) for r in self.running):
            return None
        shared = [n for n in self.pending if not self._alone(n)]
        ready = [n for n in shared if not self._waits_for(n)]
        if ready:
            return max(ready, key=lambda n: (self._expected(n), -self.pending.index(n)))
        if shared or self.running:
            return None  # a timing chapter waits until it has the machine
        return self.pending[0] if self.pending else None

    def start(self, notebook_id: str) -> None:
        self.pending.remove(notebook_id)
        self.running.add(notebook_id)

    def finish(self, notebook_id: str) -> None:
        self.running.discard(notebook_id)


def _last_seconds(out_dir: Path, notebook_ids: list[str]) -> dict[str, float]:
    """Each chapter's seconds in its published run, where there is one."""
    seconds = {}
    for notebook_id in notebook_ids:
        manifest = published_manifest(out_dir, notebook_id)
        if manifest and "seconds" in manifest:
            seconds[notebook_id] = float(manifest["seconds"])
    return seconds


def _execute_changed(root: Path, notebooks: list[Notebook], args: argparse.Namespace) -> list[str]:
    """Run each notebook whose inputs changed (all with ``--force``), up to
    ``--jobs`` at a time; a chapter that reads others' outputs is checked and
    run after them, so it sees them fresh. Returns the ids that failed."""
    out_dir = root / GENERATED_DIR
    # Check every notebook's parameters before the first kernel starts.
    resolved = {n.id: (n, n.resolve(args.profile, {})) for n in notebooks}
    schedule = _Schedule(list(resolved), _last_seconds(out_dir, list(resolved)))
    progress_bar = not args.no_progress and args.jobs == 1
    failures: list[str] = []
    futures: dict[Future, str] = {}

    def execute(notebook: Notebook, parameters: dict) -> None:
        result = run_notebook(
            notebook,
            parameters,
            out_dir,
            progress_bar=progress_bar,
            cwd=root,
            cell_timeout_seconds=args.cell_timeout,
        )
        print(f"{notebook.id}: executed in {result.seconds:.1f} s", flush=True)

    with ThreadPoolExecutor(max_workers=args.jobs, thread_name_prefix="chapter") as pool:
        try:
            while schedule.pending or schedule.running:
                while (notebook_id := schedule.next_ready(args.jobs)) is not None:
                    schedule.start(notebook_id)
                    notebook, parameters = resolved[notebook_id]
                    changed = None if args.force else changed_inputs(notebook, parameters, out_dir)
                    if changed == []:
                        print(f"{notebook_id}: up to date, not re-executed", flush=True)
                        schedule.finish(notebook_id)
                        continue
                    reason = "--force" if args.force else _why_run(out_dir, notebook_id, changed)
                    print(f"{notebook_id}: executing ({reason})", flush=True)
                    futures[pool.submit(execute, notebook, parameters)] = notebook_id
                if not futures:
                    continue
                done, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    notebook_id = futures.pop(future)
                    schedule.finish(notebook_id)
                    try:
                        future.result()
                    except NotebookFailed as error:
                        print(f"error: {error}", file=sys.stderr, flush=True)
                        failures.append(notebook_id)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the runs clean up
            interrupt_runs()
            wait(futures, timeout=INTERRUPT_GRACE_SECONDS)
            raise
    return failures


def _book(root: Path, args: argparse.Namespace) -> int:
    start = time.perf_counter()
    notebooks = discover_notebooks(root)
    failures = [] if args.build_only else _execute_changed(root, notebooks, args)
    if failures:
        print(
            f"error: not building the book: notebook(s) {', '.join(failures)} failed",
            file=sys.stderr,
        )
        return EXIT_FAILED
    # --build-only publishes what earlier runs left: refuse a failed one.
    problems = _unpublishable(root, [n.id for n in notebooks])
    if problems:
        for problem in problems:
            print(f"error: not building the book: {problem}", file=sys.stderr)
        return EXIT_FAILED
    html = build_book(root)
    print(f"book built in {time.perf_counter() - start:.1f} s; open {html / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        root = args.root.resolve() if args.root else find_project_root()
        if args.command == "list":
            return _list(root)
        if args.command == "run":
            return _run(root, args)
        return _book(root, args)
    except (NotebookNotFound, ParameterError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (NotebookFailed, BookBuildFailed, MissingDependency) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(INTERRUPTED_MESSAGE, file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
