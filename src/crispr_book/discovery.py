"""The notebooks of the book: where they are, their parameters, and checks.

A notebook is a jupytext py:percent file ``notebooks/<id>_<slug>.py`` with one
cell tagged ``parameters`` holding ``name = literal  # description`` lines.
Everything here reads files only; nothing starts a kernel.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import yaml

from crispr_book.style import parameters_cells
from crispr_models.core.input_checks import (
    check_choice,
    check_choices,
    check_names,
    check_non_negative_int,
    check_optional_file,
    check_positive_int,
    check_positive_real,
    check_probability,
    check_real,
)
from crispr_models.core.registry import (
    CHAPTERS,
    DEFAULT_CELL_TIMEOUT_SECONDS,
    LOO_CHAPTERS,
    LOO_TABLES,
    RECOMMENDED,
)
from crispr_models.core.settings import PARAMETERIZATIONS, SETTING_DESCRIPTIONS, SETTING_RULES

#: ``m6corr_correlated_sgrna_effects.py`` has id ``m6corr``; chapters outside
#: the model series take a word: ``sbc_simulation_based_calibration.py`` is ``sbc``.
NOTEBOOK_PATTERN = re.compile(r"^(?P<id>m\d+[a-z0-9_]*?|[a-z]+?)_(?P<slug>[a-z0-9_]+)\.py$")
#: Set by the run command (``--out``), never by ``-p``.
RUNNER_PARAMETERS = ("artifacts_dir",)

#: Parameter values per profile, applied to the notebooks that declare them.
#: ``full`` keeps each notebook's own defaults (the original series'
#: settings); ``quick`` is for the tests. On models of this size compilation,
#: not sampling, takes the time, so ``quick`` keeps enough draws (2 x 2000;
#: model 6, non-centred, needs them) to meet the same convergence thresholds
#: per chain, and cuts the validation chapters to a few simulations and one
#: benchmark model, fitted twice.
PROFILES: dict[str, dict[str, Any]] = {
    "full": {},
    "quick": {
        "draws": 2000,
        # model 6 (non-centred, raw copy number) left 5 divergences after
        # 1000 warm-up draws with its data in a data container; 2000 none
        "tune": 2000,
        "chains": 2,
        "prior_draws": 100,
        # calibration: enough simulations to exercise every step, not to judge
        "num_simulations": 20,
        # sampler benchmark: one small model, enough draws for an ESS
        "benchmark_models": ("m1",),
        "benchmark_draws": 300,
        "benchmark_tune": 300,
        "benchmark_repeats": 2,
        # centred or non-centred: two samples per model show a spread
        "timing_repeats": 2,
    },
}


def chapter_inputs(notebook_id: str) -> tuple[str, ...]:
    """Files, relative to the output folder, that a chapter reads from other
    chapters' outputs: inputs of its run, like its source and parameters."""
    if notebook_id not in CHAPTERS:
        return ()
    reads = CHAPTERS[notebook_id].reads
    return tuple(f"{chapter}/{table}.csv" for chapter in reads for table in LOO_TABLES)


class ParameterError(ValueError):
    """A parameter override the notebook cannot accept."""


class NotebookNotFound(LookupError):
    """No notebook with that id in ``notebooks/``."""


# --- what a parameter may hold, beyond the type of its default -------------

_NAMED_RULES: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "seed": ("a non-negative integer", check_non_negative_int),
    **SETTING_RULES,
    "lkj_eta": ("a positive number", check_positive_real),
    "noise_df": ("a positive number", check_positive_real),
    "calibration_draws": ("a positive integer", check_positive_int),
    "calibration_tune": ("a positive integer", check_positive_int),
    "thin": ("a positive integer", check_positive_int),
    "benchmark_draws": ("a positive integer", check_positive_int),
    "benchmark_tune": ("a positive integer", check_positive_int),
    "benchmark_chains": ("a positive integer", check_positive_int),
    "benchmark_repeats": ("a positive integer", check_positive_int),
    "timing_repeats": ("a positive integer", check_positive_int),
    "benchmark_models": (
        "a tuple of chapter ids from " + ", ".join(RECOMMENDED),
        lambda name, value: check_choices(name, value, tuple(RECOMMENDED)),
    ),
    "comparison_chapters": (
        "a tuple of chapter ids from " + ", ".join(LOO_CHAPTERS),
        lambda name, value: check_choices(name, value, LOO_CHAPTERS),
    ),
    # the real screen (chapter screen)
    "sample_genes": ("a non-negative integer (0: every gene)", check_non_negative_int),
    "min_plasmid_reads": ("a non-negative integer", check_non_negative_int),
    "essential_threshold": ("a finite number (log2 fold change)", check_real),
    "call_probability": ("a probability", check_probability),
    "predictive_draws": ("a positive integer", check_positive_int),
    "grid_draws": ("a positive integer", check_positive_int),
    "hierarchy_draws": ("a positive integer", check_positive_int),
    "check_draws": ("a positive integer", check_positive_int),
    "bootstrap_draws": ("a positive integer", check_positive_int),
    "known_drivers": ("a tuple of gene symbols", check_names),
    **{
        name: ("'' (the AU565 example) or the path of an existing file", check_optional_file)
        for name in (
            "counts_file",
            "library_file",
            "segments_file",
            "essential_file",
            "non_essential_file",
        )
    },
    "parameterization": (
        "one of " + ", ".join(PARAMETERIZATIONS),
        lambda name, value: check_choice(name, value, PARAMETERIZATIONS),
    ),
}
_PREFIX_RULES: list[tuple[str, str, Callable[[str, Any], Any]]] = [
    ("num_", "a positive integer", check_positive_int),
    ("true_sigma", "a positive number", check_positive_real),
    ("true_", "a finite number", check_real),
]


def _check_type(expected: type, accepted: str) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        # bool is an int subclass; an int default must not take True/False.
        if isinstance(value, bool) and expected is not bool or not isinstance(value, expected):
            raise TypeError(f"{name} must be {accepted}, got {value!r}")
        return value

    return check


_TYPE_RULES: dict[type, tuple[str, Callable[[str, Any], Any]]] = {
    bool: ("true or false", _check_type(bool, "true or false")),
    int: ("an integer", _check_type(int, "an integer")),
    float: ("a finite number", check_real),
    str: ("a string", _check_type(str, "a string")),
}


def _rule_for(name: str, default: Any) -> tuple[str, Callable[[str, Any], Any]]:
    if name in _NAMED_RULES:
        return _NAMED_RULES[name]
    for prefix, accepted, check in _PREFIX_RULES:
        if name.startswith(prefix):
            return accepted, check
    return _TYPE_RULES.get(type(default), ("a Python literal", lambda name, v: v))


@dataclass(frozen=True)
class Parameter:
    """One assignment of a notebook's ``parameters`` cell."""

    name: str
    default: Any
    description: str

    @property
    def accepted(self) -> str:
        return _rule_for(self.name, self.default)[0]

    def parse(self, text: str) -> Any:
        """Turn a command-line string into a checked value of the default's type."""
        default_type = type(self.default)
        try:
            if default_type is bool:
                lowered = text.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                value: Any = lowered in ("true", "1", "yes")
            elif default_type is int:
                value = int(text)
            elif default_type is float:
                value = float(text)
            elif default_type is str:
                value = text
            else:
                value = ast.literal_eval(text)
        except (ValueError, SyntaxError) as error:
            raise ParameterError(
                f"parameter {self.name!r}: {text!r} is not {self.accepted}"
            ) from error
        return self.check(value)

    def check(self, value: Any) -> Any:
        """Check a typed value against the parameter's rule."""
        check = _rule_for(self.name, self.default)[1]
        try:
            return check(self.name, value)
        except (TypeError, ValueError) as error:
            raise ParameterError(
                f"parameter {self.name!r}: {value!r} is not accepted; expected {self.accepted}"
            ) from error


@dataclass(frozen=True)
class Notebook:
    """A notebook source file and what its ``parameters`` cell declares."""

    id: str
    path: Path

    @property
    def title(self) -> str:
        for cell in jupytext.read(self.path).cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
        return self.id

    @property
    def cell_timeout_seconds(self) -> int:
        chapter = CHAPTERS.get(self.id)
        return chapter.cell_timeout_seconds if chapter else DEFAULT_CELL_TIMEOUT_SECONDS

    @property
    def parameters(self) -> dict[str, Parameter]:
        """The parameters cell's, then the sampler settings the registry keeps
        for the chapter (``draws``, ``target_accept``, ...): ``-p`` sets both."""
        declared = parse_parameters_cell(parameters_cell_source(self.path), self.path)
        chapter = CHAPTERS.get(self.id)
        if chapter and chapter.sampling:
            for name, description in SETTING_DESCRIPTIONS.items():
                value = getattr(chapter.sampling, name)
                if value is not None:  # a setting the chapter has no use for
                    declared.setdefault(name, Parameter(name, value, description))
        return declared

    def resolve(self, profile: str, overrides: dict[str, str]) -> dict[str, Any]:
        """Profile values and ``-p`` overrides, checked against the notebook.

        Raises :class:`ParameterError` naming the parameter and the accepted
        values; called before any kernel starts.
        """
        if profile not in PROFILES:
            raise ParameterError(f"unknown profile {profile!r}; accepted: {', '.join(PROFILES)}")
        declared = self.parameters
        chapter = CHAPTERS.get(self.id)
        profile_values = {
            **PROFILES[profile],
            **(chapter.profile_overrides.get(profile, {}) if chapter else {}),
        }
        resolved = {
            name: declared[name].check(value)
            for name, value in profile_values.items()
            if name in declared
        }
        for name, text in overrides.items():
            if name in RUNNER_PARAMETERS:
                raise ParameterError(f"parameter {name!r} is set by the run command (--out)")
            if name not in declared:
                accepted = ", ".join(n for n in declared if n not in RUNNER_PARAMETERS)
                raise ParameterError(
                    f"unknown parameter {name!r} for notebook {self.id}; accepted: {accepted}"
                )
            resolved[name] = declared[name].parse(text)
        return resolved


def parameters_cell_source(path: Path) -> str:
    """Source of the single cell tagged ``parameters``."""
    cells = parameters_cells(jupytext.read(path).cells)
    if len(cells) != 1:
        raise ValueError(
            f"{path} must have exactly one cell tagged 'parameters', found {len(cells)}"
        )
    return cells[0].source


def parse_parameters_cell(source: str, origin: Path | str = "<parameters>") -> dict[str, Parameter]:
    """``name = literal  # description`` lines into :class:`Parameter` objects."""
    lines = source.splitlines()
    parameters = {}
    for node in ast.parse(source).body:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            raise ValueError(
                f"{origin}: the parameters cell may only hold 'name = literal' lines "
                f"(line {node.lineno})"
            )
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError as error:
            raise ValueError(f"{origin}: parameter {name!r} must have a literal default") from error
        _, _, comment = lines[node.lineno - 1].partition("#")
        parameters[name] = Parameter(name, default, comment.strip())
    return parameters


def _toc_order(root: Path) -> list[str]:
    """Notebook ids in the order ``_toc.yml`` lists ``book/generated/<id>``."""
    toc_path = root / "_toc.yml"
    if not toc_path.exists():
        return []
    ids = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            entry = str(node.get("file", ""))
            if entry.startswith("book/generated/"):
                ids.append(entry.removeprefix("book/generated/"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(toc_path.read_text()))
    return ids


def discover_notebooks(root: Path) -> list[Notebook]:
    """Every notebook in ``root/notebooks``, in book order (``_toc.yml``)."""
    notebooks = {}
    for path in sorted((root / "notebooks").glob("*.py")):
        match = NOTEBOOK_PATTERN.match(path.name)
        if match:
            notebooks[match["id"]] = Notebook(match["id"], path)
    order = [i for i in _toc_order(root) if i in notebooks]
    order += sorted(set(notebooks) - set(order))
    return [notebooks[i] for i in order]


def find_notebook(root: Path, notebook_id: str) -> Notebook:
    """The notebook called ``notebook_id`` (``m2`` or its file name)."""
    notebooks = discover_notebooks(root)
    for notebook in notebooks:
        if notebook_id in (notebook.id, notebook.path.name, notebook.path.stem):
            return notebook
    accepted = ", ".join(n.id for n in notebooks) or "none found"
    raise NotebookNotFound(f"unknown notebook {notebook_id!r}; accepted: {accepted}")


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder, from ``start`` up, holding ``_toc.yml`` and ``notebooks/``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "_toc.yml").exists() and (folder / "notebooks").is_dir():
            return folder
    source_tree = Path(__file__).resolve().parents[2]
    if (source_tree / "_toc.yml").exists():
        return source_tree
    raise FileNotFoundError(
        f"no project root (a folder with _toc.yml and notebooks/) at or above {start}; "
        "run from the repository or pass --root"
    )
