"""The sampler settings a chapter exposes, and the model options: light to
import (no PyMC), so the command line can check ``-p`` values at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crispr_models.core.input_checks import (
    check_choice,
    check_non_negative_int,
    check_positive_int,
    check_probability,
)

#: How a hierarchical level is written: centred (effects drawn around their
#: mean) or non-centred (standard normal offsets, scaled and shifted).
PARAMETERIZATIONS = ("centred", "non_centred")

SAMPLERS = ("nutpie", "pymc", "numpyro")

#: Each sampler setting, what it accepts and its check: the one definition
#: used by :class:`SamplerSettings` and by the run command's ``-p`` checks.
SETTING_RULES: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "draws": ("a positive integer", check_positive_int),
    "tune": ("a non-negative integer", check_non_negative_int),
    "chains": ("a positive integer", check_positive_int),
    "sampler": (
        "one of " + ", ".join(SAMPLERS),
        lambda name, value: check_choice(name, value, SAMPLERS),
    ),
    "target_accept": ("a number strictly between 0 and 1", check_probability),
    "prior_draws": ("a positive integer", check_positive_int),
    "short_draws": ("a positive integer", check_positive_int),
}


#: What each setting means, as ``crispr-models list`` shows it.
SETTING_DESCRIPTIONS = {
    "draws": "posterior draws per chain",
    "tune": "warm-up draws per chain",
    "chains": "independent chains",
    "sampler": "nutpie, pymc or numpyro",
    "target_accept": "NUTS step-size target",
    "prior_draws": "prior predictive draws",
    "short_draws": "draws and warm-up per chain for a pathological variant",
}


@dataclass(frozen=True)
class SamplerSettings:
    """The knobs every notebook exposes in its ``parameters`` cell."""

    draws: int = 2000
    tune: int = 2000
    chains: int = 4
    sampler: str = "nutpie"
    target_accept: float = 0.8
    prior_draws: int = 500
    #: Draws and warm-up per chain for a variant a chapter shows but does not
    #: recommend (None: such variants run with the full settings).
    short_draws: int | None = None

    def __post_init__(self) -> None:
        for name, (_, check) in SETTING_RULES.items():
            value = getattr(self, name)
            if not (name == "short_draws" and value is None):  # None: no short runs
                check(name, value)

    @classmethod
    def from_parameters(
        cls, namespace: Mapping[str, Any], base: SamplerSettings | None = None
    ) -> SamplerSettings:
        """The settings a chapter's namespace (``globals()``) sets (``draws``,
        ``tune``, ...); a setting it does not set keeps ``base``'s value (by
        default this class's)."""
        given = {name: namespace[name] for name in SETTING_RULES if name in namespace}
        return dataclasses.replace(base or cls(), **given)

    def short(self, draws: int | None = None) -> SamplerSettings:
        """The same settings with ``draws`` (default ``short_draws``) warm-up and
        kept draws per chain: a variant shown for its problem needs only enough
        to show it. Unchanged when neither is set."""
        draws = draws or self.short_draws
        return dataclasses.replace(self, draws=draws, tune=draws) if draws else self
