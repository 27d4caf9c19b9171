"""A stubbed NUTS for structural runs of the chapters (``make test-fast``).

``install()`` replaces nutpie's compile and sample with prior draws of the
same model, shaped like a posterior (chains x draws) with no divergences,
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


def _stub_sample(compiled, *, draws, chains=4, seed=0, **_settings):
    import numpy as np
    import pymc as pm
    import xarray as xr

    model = compiled.model
    names = [v.name for v in model.free_RVs + model.deterministics]
    prior = pm.sample_prior_predictive(
        draws=chains * draws, model=model, var_names=names, random_seed=seed
    )["prior"].to_dataset()
    prior = prior.isel(chain=0, drop=True)
    posterior = xr.Dataset(
        {
            name: (
                ("chain", "draw", *values.dims[1:]),
                values.to_numpy().reshape(chains, draws, *values.shape[1:]),
            )
            for name, values in prior.data_vars.items()
        },
        coords={
            **{k: v for k, v in prior.coords.items() if k != "draw"},
            "chain": np.arange(chains),
            "draw": np.arange(draws),
        },
    )
    shape = (chains, draws)
    sample_stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), np.zeros(shape, dtype=bool)),
            "depth": (("chain", "draw"), np.ones(shape, dtype=int)),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws)},
    )
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": sample_stats})


def install() -> None:
    """Replace nutpie's compile and sample in this process."""
    import nutpie

    nutpie.compile_pymc_model = lambda model, **_kwargs: StubCompiled(model)
    nutpie.sample = _stub_sample


def write_startup(ipython_dir: Path) -> Path:
    """An IPython directory whose kernels install the stub when they start."""
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00_stub_sampler.py").write_text(
        STARTUP.format(tests=str(Path(__file__).resolve().parent))
    )
    return Path(ipython_dir)
