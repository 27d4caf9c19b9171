"""A stubbed NUTS for structural runs of the chapters (``make test-fast``).

``install()`` replaces nutpie's compile and sample (and PyMC's and numpyro's
NUTS behind ``fitting.sample_posterior``) with prior draws of the same
model, shaped like a posterior (chains x draws) with no divergences,
as PyMC's own ``pymc.testing.mock_sample`` does for ``pm.sample``. Every
other step of a chapter is real: the prior and posterior predictive draws,
the convergence report (independent draws pass it), the tables, the
figures, the saved artifacts. It runs in the chapter's kernel, from an
IPython startup file (:func:`write_startup`), so no chapter and nothing in
``src/`` knows about it.
"""

from __future__ import annotations

from pathlib import Path

STARTUP = """\
import sys
sys.path.insert(0, {tests!r})
import stub_sampler
stub_sampler.install()
"""


class StubCompiled:
    """What ``nutpie.compile_pymc_model`` returns, without compiling."""

    def __init__(self, model):
        self.model = model

    def with_data(self, **_data):
        return self  # prior draws do not depend on the observed data


_PRIOR_DRAWS: dict = {}


def _prior_draws(model, draws: int):
    """``draws`` joint prior draws of the model's variables, drawn once per
    model: calibration refits one model many times, and each draw from the
    prior compiles a function."""
    import pymc as pm

    key = (id(model), draws)
    if key not in _PRIOR_DRAWS:
        names = [v.name for v in model.free_RVs + model.deterministics]
        prior = pm.sample_prior_predictive(draws=draws, model=model, var_names=names, random_seed=0)
        # the model is kept with its draws, so its id is not reused meanwhile
        _PRIOR_DRAWS[key] = (model, prior["prior"].to_dataset().isel(chain=0, drop=True))
    return _PRIOR_DRAWS[key][1]


def _stub_sample(compiled, *, draws, chains=4, seed=0, **_settings):
    """Prior draws shaped like a posterior. Every half of every chain holds the
    same ``draws // 2`` joint prior draws, each half in its own random order:
    the rank-normalised split r-hat is then at most 1 and the draws look
    independent, so a fit to use passes its checks with few draws."""
    import numpy as np
    import xarray as xr

    half = max(draws // 2, 1)
    prior = _prior_draws(compiled.model, half)
    rng = np.random.default_rng(seed)
    order = np.stack(
        [np.concatenate([rng.permutation(half), rng.permutation(half)]) for _ in range(chains)]
    )
    posterior = xr.Dataset(
        {
            name: (("chain", "draw", *values.dims[1:]), values.to_numpy()[order])
            for name, values in prior.data_vars.items()
        },
        coords={
            **{k: v for k, v in prior.coords.items() if k != "draw"},
            "chain": np.arange(chains),
            "draw": np.arange(2 * half),
        },
    )
    shape = order.shape
    sample_stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), np.zeros(shape, dtype=bool)),
            "depth": (("chain", "draw"), np.ones(shape, dtype=int)),
            "n_steps": (("chain", "draw"), np.ones(shape, dtype=int)),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(2 * half)},
    )
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": sample_stats})


def _stub_pymc(model, settings, seed):
    """PyMC's and numpyro's NUTS (the benchmark's other engines), stubbed alike."""
    from crispr_models.core import fitting

    idata = _stub_sample(
        StubCompiled(model), draws=settings.draws, chains=settings.chains, seed=seed
    )
    return fitting._with_timing(idata, 0.0, 0.01)


def install() -> None:
    """Replace nutpie's compile and sample in this process."""
    import nutpie

    from crispr_models.core import fitting

    nutpie.compile_pymc_model = lambda model, **_kwargs: StubCompiled(model)
    nutpie.sample = _stub_sample
    fitting._sample_pymc = _stub_pymc


def write_startup(ipython_dir: Path) -> Path:
    """An IPython directory whose kernels install the stub when they start."""
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00_stub_sampler.py").write_text(
        STARTUP.format(tests=str(Path(__file__).resolve().parent))
    )
    return Path(ipython_dir)
