"""The command line as a user meets it: refusals happen before any kernel starts."""

import pytest

from conftest import REPO_ROOT, run_cli
from crispr_book.cli import _Schedule
from crispr_book.discovery import discover_notebooks
from crispr_models.core.registry import CHAPTERS


def test_list_shows_notebooks_in_order_with_parameters():
    result = run_cli("list")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("m1 ") < out.index("m2 ")
    assert "num_genes = 5  # genes in the screen" in out
    assert "artifacts_dir" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "m2", "-p", "num_genes", "-3"], "num_genes"),
        (["run", "m2", "-p", "chains", "two"], "chains"),
        (["run", "m2", "-p", "colour", "red"], "unknown parameter 'colour'"),
        (["run", "m7x"], "unknown notebook 'm7x'; accepted: m1, m2"),
        (["run", "m2", "-p", "seed", "1", "-p", "seed", "2"], "twice"),
    ],
)
def test_bad_input_is_refused_before_any_kernel_starts(tmp_path, args, message):
    result = run_cli("--root", str(REPO_ROOT), *args, "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing was executed or written


def test_unknown_profile_is_refused_by_the_parser():
    result = run_cli("run", "m2", "--profile", "fast")
    assert result.returncode == 2
    assert "full" in result.stderr and "quick" in result.stderr


def test_outside_a_project_the_root_is_found_or_named(tmp_path):
    result = run_cli("--root", str(tmp_path), "list", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == ""


def _drain(schedule: _Schedule, jobs: int) -> list[set[str]]:
    """Run the schedule to the end, finishing everything started each round:
    the sets of chapters that ran side by side."""
    rounds = []
    while schedule.pending or schedule.running:
        while (notebook_id := schedule.next_ready(jobs)) is not None:
            schedule.start(notebook_id)
        rounds.append(set(schedule.running))
        for notebook_id in list(schedule.running):
            schedule.finish(notebook_id)
    return rounds


def test_book_runs_independent_chapters_side_by_side_and_bench_alone():
    order = [n.id for n in discover_notebooks(REPO_ROOT)]
    rounds = _drain(_Schedule(order), jobs=2)
    assert all(len(r) <= 2 for r in rounds)
    assert {"bench"} in rounds  # a timing chapter never shares the machine
    ran_before = set()
    for chapter_round in rounds:
        if "loo" in chapter_round:  # only after every chapter it reads
            assert set(CHAPTERS["loo"].reads) <= ran_before
        ran_before |= chapter_round
    assert ran_before == set(order)
    assert any(len(r) == 2 for r in rounds)


def test_one_job_runs_the_longest_first_and_the_chapters_that_run_alone_last():
    order = [n.id for n in discover_notebooks(REPO_ROOT)]
    seconds = {"m1": 500.0}  # its last run took longest
    ran = [next(iter(r)) for r in _drain(_Schedule(order, seconds), jobs=1)]
    assert sorted(ran) == sorted(order)
    alone = [c for c in order if CHAPTERS[c].runs_alone]
    assert ran[0] == "m1" and ran[-len(alone) :] == alone
    expected = [c for c in ran if c not in ("loo", *alone)]
    typical = {c: seconds.get(c, CHAPTERS[c].typical_seconds) for c in expected}
    assert expected == sorted(expected, key=lambda c: -typical[c])


def test_jobs_must_be_a_positive_integer():
    result = run_cli("book", "--jobs", "0")
    assert result.returncode == 2
    assert "--jobs" in result.stderr and "positive integer" in result.stderr
