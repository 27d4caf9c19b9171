"""Argument checks shared by the simulations, models and fitting helpers.

Each check raises a ``ValueError`` (or ``TypeError``) that names the parameter
and says what is accepted, so bad input fails before any sampling starts.
"""

from __future__ import annotations

import numbers

import numpy as np

RandomSource = np.random.Generator | np.random.RandomState


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an integer >= 1, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value}")
    return int(value)


def check_non_negative_int(name: str, value: object) -> int:
    """Return ``value`` if it is an integer >= 0, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer (>= 0), got {value}")
    return int(value)


def check_real(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value}")
    return float(value)


def check_positive_real(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number > 0."""
    value = check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be a positive real number (> 0), got {value}")
    return value


def check_probability(name: str, value: object) -> float:
    """Return ``value`` as a float if it lies strictly between 0 and 1."""
    value = check_real(name, value)
    if not 0 < value < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")
    return value


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {accepted}, got {value!r}")
    return value


def check_choices(name: str, values: object, choices: tuple[str, ...]) -> tuple[str, ...]:
    """Return ``values`` as a tuple if it is a non-empty sequence of ``choices``."""
    accepted = ", ".join(repr(c) for c in choices)
    if isinstance(values, str) or not isinstance(values, tuple | list) or not values:
        raise TypeError(f"{name} must be a non-empty tuple of {accepted}; got {values!r}")
    unknown = [v for v in values if v not in choices]
    if unknown:
        raise ValueError(f"{name} has unknown entries {unknown}; accepted: {accepted}")
    return tuple(values)


def check_rng(rng: object) -> RandomSource:
    """Accept a numpy ``Generator`` or a legacy ``RandomState``, nothing else.

    Global random state is never used: a caller who wants reproducible data
    passes the generator explicitly.
    """
    if not isinstance(rng, np.random.Generator | np.random.RandomState):
        raise TypeError(
            "rng must be a numpy.random.Generator (np.random.default_rng(seed)) or, to "
            "reproduce the original series, a numpy.random.RandomState; "
            f"got {type(rng).__name__}"
        )
    return rng


def check_optional_file(name: str, value: object) -> str:
    """Return ``''`` as it is, or ``value`` as the absolute path of an
    existing file (so that it still names the file from another folder)."""
    from pathlib import Path

    if not isinstance(value, str):
        raise TypeError(f"{name} must be a file path (a string) or '', got {value!r}")
    if not value:
        return value
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        raise ValueError(f"{name} must name an existing file, got {value!r} (no file {path})")
    return str(path)


def check_names(name: str, value: object) -> tuple[str, ...]:
    """Return ``value`` if it is a tuple of non-empty strings (possibly empty)."""
    if not isinstance(value, tuple | list) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"{name} must be a tuple of names (strings), got {value!r}")
    return tuple(value)
