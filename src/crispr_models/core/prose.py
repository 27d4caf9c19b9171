"""Numbers for a chapter's prose, from the run that wrote it.

A chapter's Markdown cites computed values with myst-nb's ``{glue:text}``
role (``{glue:text}`m2_covered```); :func:`glue_values` stores them in the
executed notebook, so a reader who reruns the chapter with other parameters
reads that run's numbers. :func:`rerun_note` says, on the page, when a run
changed the defaults that the chapter's qualitative claims were checked for.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

import numpy as np
from IPython.display import Markdown

from crispr_models.core.registry import changed_defaults


def _plain(value: object) -> object:
    """NumPy scalars as Python ones: the glued text is their repr, and myst-nb
    reads it back as a literal (``np.float64(0.5)`` is not one)."""
    return value.item() if isinstance(value, np.generic) else value


def model_code(*functions: Callable) -> Markdown:
    """The source of the model functions a chapter fits, as code blocks for
    the page: read from the installed package each run, so the page shows
    the code that ran, never a copy."""
    if not functions:
        raise ValueError("model_code needs at least one function")
    blocks = [f"```python\n{inspect.getsource(function).rstrip()}\n```" for function in functions]
    return Markdown("\n\n".join(blocks))


def glue_values(**values: object) -> None:
    """Store each value under its name for ``{glue:text}`` in the Markdown."""
    from myst_nb import glue  # a few ms; only chapters call this

    for name, value in values.items():
        glue(name, _plain(value), display=False)


def rerun_note(chapter: str, namespace: Mapping[str, object]) -> Markdown | None:
    """A visible note when the run's data-deciding parameters are not the
    chapter's defaults (``namespace``: the chapter's ``globals()``)."""
    changed = changed_defaults(chapter, namespace)
    if not changed:
        return None
    listed = "; ".join(f"`{n}` = {v!r} (default {d!r})" for n, (d, v) in changed.items())
    return Markdown(
        f"> **Not the book's default run.** This run changed {listed}. Every number "
        "below is this run's; sentences marked *(defaults)* describe what the "
        "default run showed and may not hold for this one."
    )
