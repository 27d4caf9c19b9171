"""Shared fixtures: seeded data, one fitted model per session, quick notebook runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from crispr_book.discovery import PROFILES, discover_notebooks
from crispr_models.core.fitting import SamplerSettings, fit
from crispr_models.core.registry import CHAPTERS
from crispr_models.series.models import multigene_rna_model, single_gene_rna_model
from crispr_models.series.simulation import simulate_multigene_rna, simulate_single_gene_rna

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The quick profile, as the notebooks get it.
QUICK = SamplerSettings(
    **{k: v for k, v in PROFILES["quick"].items() if k in SamplerSettings.__dataclass_fields__}
)
#: Model 2's free parameters: what its posterior, and nothing else, holds.
MULTIGENE_PARAMETERS = {
    "mu_alpha",
    "sigma_alpha",
    "mu_beta",
    "sigma_beta",
    "alpha",
    "beta",
    "sigma",
}
#: What a project needs to run its notebooks and build its book.
PROJECT_FILES = (
    "_config.yml",
    "_toc.yml",
    "book/intro.md",
    "book/references.md",
    "book/api.md",
    "book/references.bib",
    "book/_ext/single_scripts.py",
    "book/_static/favicon.svg",
)


def run_cli(
    *args: str, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python -m crispr_book ARGS`` as a user would run it, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "crispr_book", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env=None if env is None else {**os.environ, **env},
    )


def copy_project(destination: Path, notebooks: bool = True) -> Path:
    """A throw-away copy of the book's sources, so tests never touch book/generated."""
    for name in PROJECT_FILES:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / name, target)
    (destination / "notebooks").mkdir(exist_ok=True)
    if notebooks:
        for path in (REPO_ROOT / "notebooks").glob("*.py"):
            shutil.copy(path, destination / "notebooks" / path.name)
    return destination


#: Fixtures that sample with a real NUTS run: a test that uses one is marked
#: ``fits`` (out of ``make test-unit``).
FITTING_FIXTURES = frozenset({"multigene_fit"})


def pytest_collection_modifyitems(items):
    """Mark the tests that use a fitted model, so that the unit lane can
    leave them out without each test saying so."""
    for item in items:
        if FITTING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.fits)


@pytest.fixture(scope="session")
def multigene_data():
    """Model 2's default data: the original draw, RandomState(103)."""
    return simulate_multigene_rna(np.random.RandomState(103))


@pytest.fixture(scope="session")
def single_gene_data():
    return simulate_single_gene_rna(np.random.default_rng(103))


@pytest.fixture(scope="session")
def multigene_fit(multigene_data):
    """One quick nutpie fit of model 2, reused by every test that reads a fit."""
    model = multigene_rna_model(multigene_data.observations)
    return fit(model, np.random.default_rng(1), QUICK, target_accept=0.9)


@pytest.fixture(scope="session")
def single_gene_model(single_gene_data):
    return single_gene_rna_model(single_gene_data.observations)


#: ``-p`` overrides of the quick runs.
QUICK_RUN_OVERRIDES = {
    "m1": ["-p", "num_cell_lines", "25"],
    "m5": ["-p", "sgrnas_per_gene", "(1, 2, 3, 4, 6)"],
}


def quick_override(notebook_id: str, name: str, default: object) -> object:
    """The value a quick run of ``notebook_id`` gets for ``name``: a ``-p``
    override, else the registry's quick-profile value for the chapter."""
    arguments = QUICK_RUN_OVERRIDES.get(notebook_id, [])
    given = {arguments[i + 1]: arguments[i + 2] for i in range(0, len(arguments), 3)}
    chapter = CHAPTERS.get(notebook_id)
    registry = chapter.profile_overrides.get("quick", {}) if chapter else {}
    return given.get(name, registry.get(name, default))


@pytest.fixture(scope="session")
def quick_project(tmp_path_factory):
    """Every notebook run once through ``crispr-models run --profile quick``.

    m1 and m5 also get a ``-p`` override, so the tests see it reach the
    notebook (m5's is a tuple).
    Returns the project folder and each notebook's finished process.
    """
    root = copy_project(tmp_path_factory.mktemp("project"))
    overrides = QUICK_RUN_OVERRIDES
    runs = {}
    for notebook in discover_notebooks(root):
        notebook_id = notebook.id
        runs[notebook_id] = run_cli(
            "--root",
            str(root),
            "run",
            notebook_id,
            "--profile",
            "quick",
            "--no-progress",
            *overrides.get(notebook_id, []),
        )
    return root, runs


@pytest.fixture(scope="session")
def book_html(quick_project):
    """The book built (``book --build-only``) from the quick runs; its html folder."""
    root, runs = quick_project
    assert all(r.returncode == 0 for r in runs.values())
    # A real checkout has tool caches with Markdown in them; they must not
    # reach Sphinx, whose warning about them would fail the build.
    (root / ".pytest_cache").mkdir(exist_ok=True)
    (root / ".pytest_cache" / "README.md").write_text("# pytest cache directory\n")
    result = run_cli("--root", str(root), "book", "--build-only")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "open " in result.stdout
    return root / "_build" / "html"


#: A ``{glue:text}`` citation in a chapter's Markdown: the name it cites.
GLUE_ROLE = re.compile(r"\{glue:text\}`([A-Za-z0-9_]+)")


def undefined_glue(executed) -> set[str]:
    """Names the Markdown cites with ``{glue:text}`` that no cell glued."""
    notebook = nbformat.read(executed, as_version=4)
    cited = {
        key
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for key in GLUE_ROLE.findall(cell.source)
    }
    glued = {
        output["metadata"]["scrapbook"]["name"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "scrapbook" in output.get("metadata", {})
    }
    return cited - glued
