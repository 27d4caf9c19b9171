"""tools/: the interpreter make chooses and the system packages it installs."""

import os
import shutil
import subprocess
import sys

from conftest import REPO_ROOT

FIND_PYTHON = REPO_ROOT / "tools" / "find-python"
SYSTEM_PACKAGES = REPO_ROOT / "tools" / "system-packages"


def _fake_bin(tmp_path, **scripts):
    """A folder of stand-in commands (and sh itself) to run the tools with."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for utility in ("sh", "ls", "sort", "cat"):
        (folder / utility).symlink_to(shutil.which(utility))
    for name, body in scripts.items():
        path = folder / name.replace("_", "-")
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return folder


def _run(tool, *args, path, home=None):
    environment = {"PATH": str(path), "HOME": str(home or os.environ.get("HOME", "/"))}
    return subprocess.run(
        ["/bin/sh", str(tool), *args], env=environment, capture_output=True, text=True
    )


def test_find_python_chooses_python_3_12_or_newer():
    chosen = subprocess.run([str(FIND_PYTHON)], capture_output=True, text=True, check=True)
    version = subprocess.run(
        [chosen.stdout.strip(), "-c", "import sys; print(sys.version_info[:2] >= (3, 12))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "True"


def test_find_python_says_what_to_install_when_there_is_none(tmp_path):
    # An old python3 on PATH, no pyenv: nothing qualifies.
    old = "echo 'Python 3.11'; exit 1"
    result = _run(FIND_PYTHON, path=_fake_bin(tmp_path, python3=old), home=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no Python 3.12 or newer found" in result.stderr
    assert "pyenv install 3.13" in result.stderr


def test_system_packages_does_nothing_when_all_are_there(tmp_path):
    result = _run(SYSTEM_PACKAGES, "sh:dash", f"{sys.executable}:python3", path=_fake_bin(tmp_path))
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_system_packages_prints_the_command_when_it_cannot_install(tmp_path):
    # Not root, no sudo: stop before any other work, with the exact command.
    folder = _fake_bin(tmp_path, id="echo 1000", apt_get="echo should-not-run; exit 9")
    result = _run(SYSTEM_PACKAGES, "dot:graphviz", "/no/chromium:chromium", path=folder)
    assert result.returncode == 1
    assert "should-not-run" not in result.stdout
    assert "missing system packages: graphviz chromium" in result.stderr
    assert "apt-get install -y -qq graphviz chromium" in result.stderr


def test_system_packages_installs_with_apt_get_as_root(tmp_path):
    log = tmp_path / "apt.log"
    folder = _fake_bin(tmp_path, id="echo 0", apt_get=f'echo "$@" >> {log}')
    result = _run(SYSTEM_PACKAGES, "dot:graphviz", path=folder)
    assert result.returncode == 0, result.stderr
    assert "installing graphviz (apt-get)" in result.stdout
    assert log.read_text().splitlines() == ["update -qq", "install -y -qq graphviz"]
