"""The command line as a user meets it: refusals happen before any kernel starts."""

import pytest

from conftest import REPO_ROOT, run_cli


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
