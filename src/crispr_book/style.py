"""The shape every notebook of the book has, checked without starting a kernel.

An H1 title in the first cell, the imports folded (``hide-cell``), exactly
one cell tagged ``parameters``, every section heading followed by a sentence
saying why the section is there, a ``## Conclusions`` section with nothing
shown after it but the watermark, no timer (the runner records each
chapter's seconds), and the watermark as the last cell. Tests and the
pre-commit hook both call :func:`notebook_problems`; the hook runs this file
as a script (``python src/crispr_book/style.py FILE...``) in an
environment holding only jupytext, so it imports nothing else of the package.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext


def parameters_cells(cells: list) -> list:
    """The cells tagged ``parameters`` (papermill's tag); a notebook has one."""
    return [c for c in cells if "parameters" in c.metadata.get("tags", [])]


def notebook_problems(path: str | Path) -> list[str]:
    """What the notebook at ``path`` lacks; empty when it has the book's shape."""
    cells = jupytext.read(path).cells
    if not cells:
        return [f"{path}: the notebook is empty"]
    problems = []
    if cells[0].cell_type != "markdown" or not cells[0].source.startswith("# "):
        problems.append("the first cell must be Markdown opening with an H1 title ('# Title')")
    tagged = parameters_cells(cells)
    if len(tagged) != 1:
        problems.append(
            f"exactly one cell must be tagged 'parameters' "
            f'(# %% tags=["parameters"]), found {len(tagged)}'
        )
    if not any(c.cell_type == "markdown" and "## Conclusions" in c.source for c in cells):
        problems.append("a Markdown cell must hold a '## Conclusions' section")
    if cells[-1].cell_type != "code" or "%watermark" not in cells[-1].source:
        problems.append("the last cell must be the watermark ('%load_ext watermark', '%watermark')")
    problems += _page_problems(cells)
    return [f"{path}: {problem}" for problem in problems]


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _page_problems(cells: list) -> list[str]:
    """What would put plumbing on the page instead of the science."""
    problems = []
    code = [c for c in cells if c.cell_type == "code"]
    if code and "import " in code[0].source and "hide-cell" not in _tags(code[0]):
        problems.append('the imports cell must be folded: # %% tags=["hide-cell"]')
    for cell in code:
        if "perf_counter" in cell.source:
            problems.append("no timer in a chapter: the runner records its seconds")
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for index, line in enumerate(lines):
            if line.startswith("## "):
                after = next((x for x in lines[index + 1 :] if x.strip()), "")
                if not after or after.startswith("#"):
                    problems.append(f"heading {line!r} must be followed by a sentence saying why")
    conclusions = next(
        (
            i
            for i, c in enumerate(cells)
            if c.cell_type == "markdown" and "## Conclusions" in c.source
        ),
        None,
    )
    if conclusions is not None:
        for cell in cells[conclusions + 1 : -1]:
            shown = cell.cell_type == "code" and not {"remove-input", "remove-cell"} & set(
                _tags(cell)
            )
            if shown and "%watermark" not in cell.source:
                problems.append(
                    "after the Conclusions only the watermark is shown: tag the cell "
                    "'remove-input' (glued numbers) or move it before them"
                )
    return problems


def main(paths: list[str]) -> int:
    problems = [problem for path in paths for problem in notebook_problems(path)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
