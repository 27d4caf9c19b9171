import numpy as np
import pytest
import xarray as xr

from conftest import MULTIGENE_PARAMETERS, QUICK
from crispr_models.core.fitting import (
    SamplerSettings,
    compile_seconds,
    draws_text,
    fit,
    sample_prior_predictive,
    sampling_seconds,
    timing_summary,
)

#: Real sampling or many kernels: in make test, not in make test-fast.
pytestmark = pytest.mark.slow


def test_fit_returns_every_group_the_notebooks_read(multigene_fit):
    for group in (
        "prior",
        "prior_predictive",
        "posterior",
        "posterior_predictive",
        "sample_stats",
        "observed_data",
    ):
        assert group in multigene_fit.children, group
    assert multigene_fit.posterior.sizes["chain"] == QUICK.chains
    assert multigene_fit.posterior.sizes["draw"] == QUICK.draws
    assert multigene_fit.prior.sizes["draw"] == QUICK.prior_draws


def test_fit_records_sampler_and_timing(multigene_fit):
    attrs = multigene_fit.posterior.attrs
    assert attrs["sampler"] == "nutpie"
    assert attrs["sampling_time"] > 0
    assert attrs["compile_time"] > 0


def test_timing_summary_reads_the_recorded_settings(multigene_fit):
    line = timing_summary(multigene_fit)
    assert line.startswith("nutpie: compiled in ")
    assert f"{QUICK.chains} x ({QUICK.tune} + {QUICK.draws}) draws" in line


def test_posterior_holds_model_variables_only(multigene_fit):
    assert set(multigene_fit.posterior.data_vars) == MULTIGENE_PARAMETERS


def test_posterior_covers_truth_within_three_posterior_sd(multigene_fit, multigene_data):
    # A 3-sd band misses a calibrated posterior's truth 0.3 % of the time per
    # parameter; the seed is fixed, so this checks the fit, not luck.
    posterior = multigene_fit.posterior
    for name in ("alpha", "beta", "sigma"):
        mean = posterior[name].mean(("chain", "draw")).values
        sd = posterior[name].std(("chain", "draw")).values
        truth = np.asarray(multigene_data.truth[name])
        assert np.all(np.abs(mean - truth) < 3 * sd), name


def test_same_seed_gives_same_draws(single_gene_model):
    settings = SamplerSettings(draws=100, tune=100, chains=2, prior_draws=20)
    first = fit(single_gene_model, np.random.default_rng(5), settings)
    again = fit(single_gene_model, np.random.default_rng(5), settings)
    for group in ("prior", "posterior", "posterior_predictive"):
        assert first[group].equals(again[group]), group


@pytest.mark.parametrize(
    ("override", "name"),
    [
        ({"draws": 0}, "draws"),
        ({"chains": "two"}, "chains"),
        ({"tune": -1}, "tune"),
        ({"sampler": "stan"}, "sampler"),
        ({"target_accept": 1.5}, "target_accept"),
    ],
)
def test_bad_settings_are_refused_before_sampling(single_gene_model, override, name):
    with pytest.raises((TypeError, ValueError), match=name):
        fit(single_gene_model, np.random.default_rng(1), **override)


def test_unknown_setting_is_refused_listing_the_accepted_ones(single_gene_model):
    with pytest.raises(TypeError, match="target_accept"):
        fit(single_gene_model, np.random.default_rng(1), step_size=0.1)


def test_fit_refuses_a_model_that_is_not_a_pymc_model():
    with pytest.raises(TypeError, match="pymc.Model"):
        fit("model", np.random.default_rng(1))


@pytest.mark.parametrize("sampler", ["pymc", "numpyro"])
def test_other_samplers_agree_with_nutpie_within_monte_carlo_error(single_gene_model, sampler):
    import arviz as az

    settings = SamplerSettings(draws=500, tune=500, chains=2, prior_draws=20)
    reference = fit(single_gene_model, np.random.default_rng(3), settings)
    other = fit(single_gene_model, np.random.default_rng(3), settings, sampler=sampler)
    assert other.posterior.attrs["sampler"] == sampler
    assert set(other.posterior.data_vars) == {"alpha", "beta", "sigma"}
    ours = az.summary(reference, kind="all")
    theirs = az.summary(other, kind="all")
    # Two independent chains of the same posterior: their means differ by
    # the combined Monte Carlo standard error; allow four of those.
    tolerance = 4 * np.sqrt(ours["mcse_mean"] ** 2 + theirs["mcse_mean"] ** 2)
    assert (abs(ours["mean"] - theirs["mean"]) < tolerance).all()


def test_prior_predictive_alone_and_its_checks(single_gene_model):
    prior = sample_prior_predictive(single_gene_model, np.random.default_rng(0), draws=30)
    assert prior.prior_predictive.sizes["draw"] == 30
    assert "posterior" not in prior.children
    with pytest.raises(TypeError, match="draws"):
        sample_prior_predictive(single_gene_model, np.random.default_rng(0), draws=2.5)
    with pytest.raises(TypeError, match="model"):
        sample_prior_predictive("model", np.random.default_rng(0))


def test_repeated_samples_share_one_compilation(single_gene_model, monkeypatch):
    import nutpie

    from crispr_models.core.fitting import sample_posterior_repeatedly

    compiles = []
    compile_pymc_model = nutpie.compile_pymc_model
    monkeypatch.setattr(
        nutpie,
        "compile_pymc_model",
        lambda model, **kwargs: compiles.append(model) or compile_pymc_model(model, **kwargs),
    )
    settings = SamplerSettings(draws=200, tune=200, chains=2)
    samples = sample_posterior_repeatedly(single_gene_model, np.random.default_rng(2), settings, 3)
    assert len(compiles) == 1
    compile_times = [s.posterior.attrs["compile_time"] for s in samples]
    assert compile_times[0] > 0 and compile_times[1:] == [0.0, 0.0]
    assert len({s.posterior.attrs["seed"] for s in samples}) == 3
    assert all(s.posterior.attrs["sampling_time"] > 0 for s in samples)


def test_a_fits_costs_are_read_from_its_posterior_attributes():
    posterior = xr.Dataset(
        attrs={
            "sampler": "nutpie",
            "compile_time": 6.94,
            "sampling_time": 0.25,
            "chains": 4,
            "tune": 2000,
            "draws": 1000,
        }
    )
    idata = xr.DataTree.from_dict({"posterior": posterior})
    assert compile_seconds(idata) == 6.94 and sampling_seconds(idata) == 0.25
    assert draws_text(idata) == "4 x (2000 + 1000)"
    assert (
        timing_summary(idata)
        == "nutpie: compiled in 6.9 s, sampled 4 x (2000 + 1000) draws in 0.2 s"
    )
