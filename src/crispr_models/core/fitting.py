"""One call that fits a model: prior predictive, NUTS, posterior predictive.

nutpie is the default sampler: on these small models its compile time
dominates and sampling itself takes well under a second. ``sampler="pymc"``
(PyMC's own NUTS) and ``sampler="numpyro"`` (JAX) give the same model to
other engines for comparison.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import numpy as np
import pymc as pm
import xarray as xr

from crispr_models.core.input_checks import (
    RandomSource,
    check_positive_int,
    check_rng,
)
from crispr_models.core.settings import SamplerSettings

_HOST_DEVICES_FLAG = "--xla_force_host_platform_device_count"


def _split_host_into_jax_devices() -> None:
    """One XLA CPU device per core, so numpyro can run its chains in parallel.

    JAX makes a single CPU device unless told otherwise, and numpyro then
    draws the chains one after another. The flag is read once, when JAX
    starts its backend, so it is set here, before any fit; a flag the user
    set wins. :func:`jax_devices` says whether it took effect.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if _HOST_DEVICES_FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_HOST_DEVICES_FLAG}={os.cpu_count() or 1}".strip()


_split_host_into_jax_devices()


def jax_devices() -> int:
    """How many devices JAX has: numpyro runs at most that many chains at once."""
    import jax

    return jax.local_device_count()


@contextmanager
def _quiet_pymc() -> Iterator[None]:
    """Silence PyMC's info lines ("Sampling: [...]", "Auto-assigning NUTS"),
    which clutter the book; its warnings (divergences, low ESS) still show."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _draw_seed(rng: RandomSource) -> int:
    """A fresh integer seed from ``rng``, for the engines that only take ints."""
    return (
        int(rng.integers(0, 2**31 - 1))
        if isinstance(rng, np.random.Generator)
        else int(rng.randint(0, 2**31 - 1))
    )


def _model_variable_names(model: pm.Model) -> list[str]:
    """Free and deterministic variables: what a posterior should report."""
    return [v.name for v in model.free_RVs + model.deterministics]


def _compile_nutpie(model: pm.Model) -> tuple[object, float]:
    """nutpie's compiled model and the seconds its compilation took."""
    import nutpie

    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    return compiled, time.perf_counter() - start


def _sample_nutpie(
    model: pm.Model,
    settings: SamplerSettings,
    seed: int,
    compiled: tuple[object, float] | None = None,
) -> xr.DataTree:
    """Sample with nutpie. ``compiled`` is a (compiled model, seconds to
    record as its compile time) pair, as :func:`_compile_nutpie` returns;
    without it ``model`` is compiled here."""
    import nutpie

    compiled, compile_time = compiled or _compile_nutpie(model)
    start = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=min(settings.chains, os.cpu_count() or 1),
        seed=seed,
        target_accept=settings.target_accept,
        save_warmup=False,
        progress_bar=False,
    )
    sampling_time = time.perf_counter() - start
    # Keep the model's own variables, in the model's order.
    idata["posterior"] = idata["posterior"].to_dataset()[_model_variable_names(model)]
    return _with_timing(idata, compile_time, sampling_time)


@contextmanager
def _jax_compile_seconds() -> Iterator[list[float]]:
    """Seconds JAX spends tracing, lowering and compiling inside numpyro's run.

    PyMC's ``sampling_time`` for numpyro includes the just-in-time
    compilation of the sampler, which happens at its first call. JAX reports
    each compilation step to its monitoring listeners; those made from within
    PyMC's ``_sample_numpyro_nuts`` (found on the call stack) are the ones
    inside that ``sampling_time``.
    """
    import jax.monitoring

    seconds = [0.0]

    def listen(event: str, duration: float, **_kwargs) -> None:
        if not event.startswith("/jax/core/compile/"):
            return
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_name == "_sample_numpyro_nuts":
                seconds[0] += duration
                return
            frame = frame.f_back

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield seconds
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


def _sample_pymc(model: pm.Model, settings: SamplerSettings, seed: int) -> xr.DataTree:
    start = time.perf_counter()
    jax_compile = _jax_compile_seconds() if settings.sampler == "numpyro" else nullcontext([0.0])
    # numpyro imports tqdm.auto, which warns in a kernel without ipywidgets
    # although no progress bar is shown. PyMC forks a worker per chain, and
    # Python (and JAX, once a numpyro fit ran in this process) warns that
    # forking a process with threads may deadlock; the workers only run
    # PyMC's sampler, not the threads' code, and have not deadlocked here.
    with model, warnings.catch_warnings(), _quiet_pymc(), jax_compile as compiling:
        warnings.filterwarnings("ignore", message="IProgress not found")
        warnings.filterwarnings("ignore", message=r"(?s).*use of fork\(\) may lead to deadlocks")
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=min(settings.chains, os.cpu_count() or 1),
            target_accept=settings.target_accept,
            random_seed=seed,
            nuts_sampler=settings.sampler,
            progressbar=False,
            compute_convergence_checks=False,
        )
    total = time.perf_counter() - start
    # PyMC records the time spent in the sampler call; the rest, and JAX's
    # compilation within that call, is compilation.
    sampling_time = float(idata.posterior.attrs.get("sampling_time", total)) - compiling[0]
    return _with_timing(idata, max(total - sampling_time, 0.0), sampling_time)


def _with_timing(idata: xr.DataTree, compile_time: float, sampling_time: float) -> xr.DataTree:
    idata.posterior.attrs["compile_time"] = float(compile_time)
    idata.posterior.attrs["sampling_time"] = float(sampling_time)
    return idata


def sample_posterior(model: pm.Model, rng: RandomSource, settings: SamplerSettings) -> xr.DataTree:
    """Run NUTS with the chosen engine; record compile and sampling seconds."""
    seed = _draw_seed(check_rng(rng))
    if settings.sampler == "nutpie":
        idata = _sample_nutpie(model, settings, seed)
    else:  # PyMC runs its own NUTS and numpyro's
        idata = _sample_pymc(model, settings, seed)
    return _with_settings(idata, settings, seed)


def _with_settings(idata: xr.DataTree, settings: SamplerSettings, seed: int) -> xr.DataTree:
    idata.posterior.attrs.update(
        sampler=settings.sampler,
        seed=seed,
        chains=settings.chains,
        tune=settings.tune,
        draws=settings.draws,
        target_accept=settings.target_accept,
    )
    return idata


def sample_posterior_repeatedly(
    model: pm.Model, rng: RandomSource, settings: SamplerSettings, repeats: int
) -> list[xr.DataTree]:
    """``repeats`` posterior samples of one model, each with its own seed from
    ``rng``, for timings that report a spread. With nutpie the model is
    compiled once: the first sample records the compile time, the others 0,
    so the repeats measure the sampling alone."""
    repeats = check_positive_int("repeats", repeats)
    if settings.sampler != "nutpie":
        return [sample_posterior(model, rng, settings) for _ in range(repeats)]
    check_rng(rng)
    compiled, compile_time = _compile_nutpie(model)
    samples = []
    for repeat in range(repeats):
        seed = _draw_seed(rng)
        # the one compilation is counted in the first sample only
        reused = (compiled, compile_time if repeat == 0 else 0.0)
        idata = _sample_nutpie(model, settings, seed, reused)
        samples.append(_with_settings(idata, settings, seed))
    return samples


def fit_advi(
    model: pm.Model, rng: RandomSource, iterations: int = 10_000, draws: int = 500
) -> xr.DataTree:
    """Mean-field ADVI: ``iterations`` steps of stochastic gradient ascent on
    the ELBO, then ``draws`` draws from the fitted normal approximation, as
    one chain. Records the optimisation seconds as ``sampling_time``."""
    iterations = check_positive_int("iterations", iterations)
    draws = check_positive_int("draws", draws)
    check_rng(rng)
    with model, _quiet_pymc():
        start = time.perf_counter()
        approximation = pm.fit(
            n=iterations, method="advi", random_seed=_draw_seed(rng), progressbar=False
        )
        fitted = time.perf_counter() - start
        idata = approximation.sample(draws, random_seed=_draw_seed(rng))
    idata.posterior.attrs["elbo_last"] = float(np.mean(-approximation.hist[-100:]))
    idata.posterior.attrs["iterations"] = iterations
    return _with_timing(idata, 0.0, fitted)


def sample_prior_predictive(model: pm.Model, rng: RandomSource, draws: int = 500) -> xr.DataTree:
    """Prior and prior predictive draws only: what the priors say before data."""
    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}")
    draws = check_positive_int("draws", draws)
    with model, _quiet_pymc():
        return pm.sample_prior_predictive(draws=draws, random_seed=_draw_seed(check_rng(rng)))


def compile_seconds(idata: xr.DataTree) -> float:
    """Seconds the fit's sampler spent compiling the model (0 if reused)."""
    return float(idata.posterior.attrs["compile_time"])


def sampling_seconds(idata: xr.DataTree) -> float:
    """Seconds of warm-up and draws, compile excluded."""
    return float(idata.posterior.attrs["sampling_time"])


def draws_text(idata: xr.DataTree) -> str:
    """How much was sampled: ``"chains x (tune + draws)"``."""
    a = idata.posterior.attrs
    return f"{a['chains']} x ({a['tune']} + {a['draws']})"


def timing_summary(idata: xr.DataTree) -> str:
    """One line: which sampler, how long it compiled and sampled, how much."""
    return (
        f"{idata.posterior.attrs['sampler']}: compiled in {compile_seconds(idata):.1f} s, "
        f"sampled {draws_text(idata)} draws in {sampling_seconds(idata):.1f} s"
    )


def fit(
    model: pm.Model,
    rng: RandomSource,
    settings: SamplerSettings | None = None,
    **setting_overrides: object,
) -> xr.DataTree:
    """Prior predictive, posterior and posterior predictive draws in one object.

    ``rng`` seeds all three steps, so the same model, settings and generator
    state give the same draws. Settings come from ``settings`` or keyword
    overrides (``draws=``, ``tune=``, ``chains=``, ``sampler=``,
    ``target_accept=``, ``prior_draws=``), all checked before any sampling.
    The returned ``posterior`` group carries the settings (``sampler``,
    ``seed``, ``chains``, ``tune``, ``draws``, ``target_accept``) and
    ``compile_time`` and ``sampling_time`` (seconds) in its attributes.
    """
    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}")
    rng = check_rng(rng)
    base = settings or SamplerSettings()
    unknown = set(setting_overrides) - set(SamplerSettings.__dataclass_fields__)
    if unknown:
        accepted = ", ".join(SamplerSettings.__dataclass_fields__)
        raise TypeError(f"unknown setting(s) {sorted(unknown)}; accepted: {accepted}")
    settings = SamplerSettings(**{**base.__dict__, **setting_overrides})

    prior = sample_prior_predictive(model, rng, settings.prior_draws)
    idata = sample_posterior(model, rng, settings)
    with model, _quiet_pymc():
        # The data are those just sampled on, so every latent variable keeps
        # its posterior draws: frozen explicitly (PyMC 6 otherwise warns that
        # draws downstream of a pm.Data container were kept).
        pm.sample_posterior_predictive(
            idata,
            freeze_vars=[variable.name for variable in model.free_RVs],
            random_seed=_draw_seed(rng),
            extend_inferencedata=True,
            progressbar=False,
        )
    for group in ("prior", "prior_predictive"):
        idata[group] = prior[group]
    return idata
