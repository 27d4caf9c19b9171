"""Every chapter end to end with a stubbed sampler: its structure, in seconds.

The chapters run through ``crispr-models run`` (quick profile) with nutpie
replaced by prior draws shaped like a posterior (:mod:`stub_sampler`), so
what is checked is the plumbing, not the statistics: each chapter runs to
the end, saves the fits the registry names, and defines every value its
prose cites with ``{glue:text}``. The statistics are checked by the full
quick runs (``tests/test_notebook_runs.py``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import stub_sampler

from conftest import copy_project, run_cli, undefined_glue
from crispr_book.discovery import discover_notebooks
from crispr_book.runner import cells_with_errors
from crispr_models.core.registry import CHAPTERS

#: The fast lane's stand-in for the real quick runs, which ``make test`` has
#: (``tests/test_notebook_runs.py`` checks the glued numbers on those).
pytestmark = pytest.mark.stubbed

#: Fewer draws than the quick profile: the stub's halves of chains hold the
#: same prior draws (r-hat at most 1), so 2 x 200 pass every check. Fewer
#: calibration simulations and benchmark draws, each a stubbed fit.
SMALL = ["-p", "draws", "200", "-p", "prior_draws", "100"]
OVERRIDES = {
    "sbc": ["-p", "num_simulations", "3"],
    "loo": [],
    "bench": ["-p", "benchmark_draws", "200"],
    # without NUTS: the stub's prior draws started both genome-wide fits far
    # from any screen's parameters (268 s; the real quick run has NUTS)
    "screen": ["-p", "nuts_checks", "false"],
}


#: Chapters by their stubbed run time, longest first (measured), so the two
#: workers finish together.
LONGEST_FIRST = ["sbc", "screen", "m7", "ppc", "m6global", "m4", "m6corr", "m5", "m6", "m3", "m2"]
LONGEST_FIRST += ["m6param", "m1", "bench", "loo"]


@pytest.fixture(scope="session")
def stubbed_runs(tmp_path_factory):
    """Every chapter run once with the stubbed sampler, two at a time."""
    root = copy_project(tmp_path_factory.mktemp("stubbed"))
    env = {"IPYTHONDIR": str(stub_sampler.write_startup(tmp_path_factory.mktemp("ipython")))}
    chapters = [n.id for n in discover_notebooks(root)]

    def run(chapter):
        args = ["--root", str(root), "run", chapter, "--profile", "quick", "--no-progress"]
        return chapter, run_cli(*args, *OVERRIDES.get(chapter, SMALL), env=env)

    # the chapters that read others' outputs run after them; the longest first
    readers = [c for c in chapters if CHAPTERS[c].reads]
    first = sorted((c for c in chapters if c not in readers), key=LONGEST_FIRST.index)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(pool.map(run, first))
        runs.update(pool.map(run, readers))
    return root, runs


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_chapter_runs_to_the_end_with_a_stubbed_sampler(stubbed_runs, chapter):
    root, runs = stubbed_runs
    result = runs[chapter]
    assert result.returncode == 0, result.stderr[-3000:]
    executed = root / "book" / "generated" / f"{chapter}.ipynb"
    assert cells_with_errors(executed) == []


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_every_glued_number_in_the_prose_is_defined(stubbed_runs, chapter):
    root, _ = stubbed_runs
    assert undefined_glue(root / "book" / "generated" / f"{chapter}.ipynb") == set()


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if CHAPTERS[c].fit_name])
def test_recommended_fit_is_saved_for_use(stubbed_runs, chapter):
    root, _ = stubbed_runs
    summary = pd.read_csv(root / "book" / "generated" / chapter / "summary.csv")
    fit_name = CHAPTERS[chapter].fit_name
    statuses = summary.loc[summary["fit"] == fit_name, "status"]
    assert not statuses.empty, f"{chapter}: no summary row for {fit_name}"
    assert (statuses == "use").all()
    assert (root / "book" / "generated" / chapter / f"{fit_name}.nc").exists()
