import numpy as np
import pandas as pd
import pytest

from crispr_models.series import simulation
from crispr_models.series.simulation import (
    cell_line_names,
    gene_names,
    simulate_multigene_rna,
    simulate_single_gene_rna,
)

ORIGINAL_ALPHA = [-2.249278, -1.260331, -0.616207, -1.385461, -2.085137]
ORIGINAL_BETA = [3.654438, -0.138414, -0.135368, -2.960023, -2.263930]


def test_m2_reproduces_the_original_true_values(multigene_data):
    truth = multigene_data.truth
    np.testing.assert_allclose(truth["alpha"].to_numpy(), ORIGINAL_ALPHA, atol=5e-7)
    np.testing.assert_allclose(truth["beta"].to_numpy(), ORIGINAL_BETA, atol=5e-7)
    assert truth["sigma"] == 0.5


def test_m2_reproduces_the_original_data_draw_for_draw(multigene_data):
    # The seed notebook's own code, with its global np.random replaced by a RandomState.
    random = np.random.RandomState(103)
    real_alpha = random.normal(loc=-1, scale=1, size=5)
    real_beta = random.normal(loc=-1, scale=2, size=5)
    rna = random.randn(5, 30)
    logfc = (real_alpha + real_beta * rna.T + random.normal(loc=0, scale=0.5, size=rna.T.shape)).T
    observations = multigene_data.observations
    np.testing.assert_array_equal(observations["rna"].to_numpy(), rna.flatten())
    np.testing.assert_array_equal(observations["logfc"].to_numpy(), logfc.flatten())


def test_m2_observations_are_tidy(multigene_data):
    observations = multigene_data.observations
    assert list(observations.columns) == ["gene", "cell_line", "rna", "logfc"]
    assert len(observations) == 5 * 30
    assert list(observations["gene"].cat.categories) == gene_names(5)
    assert observations.groupby("gene", observed=True).size().eq(30).all()
    assert list(multigene_data.truth["alpha"].index) == gene_names(5)


def test_same_seed_gives_same_data_and_new_seed_different_data():
    first = simulate_multigene_rna(np.random.default_rng(7), num_genes=3)
    again = simulate_multigene_rna(np.random.default_rng(7), num_genes=3)
    other = simulate_multigene_rna(np.random.default_rng(8), num_genes=3)
    pd.testing.assert_frame_equal(first.observations, again.observations)
    assert not np.allclose(first.observations["logfc"], other.observations["logfc"])


def test_single_gene_noise_matches_sigma_within_monte_carlo_error():
    n, sigma = 20_000, 0.3
    data = simulate_single_gene_rna(
        np.random.default_rng(11), num_cell_lines=n, alpha=0.5, beta=-1.0, sigma=sigma
    ).observations
    residuals = data["logfc"] - (0.5 - 1.0 * data["rna"])
    # The sd of a sample sd is about sigma / sqrt(2n); allow four of them.
    assert abs(residuals.std() - sigma) < 4 * sigma / np.sqrt(2 * n)
    assert abs(residuals.mean()) < 4 * sigma / np.sqrt(n)
    assert abs(data["rna"].mean()) < 4 / np.sqrt(n)


def test_single_gene_truth_and_shape(single_gene_data):
    assert single_gene_data.truth == {"alpha": 0.5, "beta": -1.0, "sigma": 0.3}
    assert len(single_gene_data.observations) == 20
    assert single_gene_data.observations["gene"].nunique() == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"num_genes": -3}, ValueError, "num_genes"),
        ({"num_genes": 2.5}, TypeError, "num_genes"),
        ({"num_cell_lines": 0}, ValueError, "num_cell_lines"),
        ({"sigma": -0.5}, ValueError, "sigma"),
        ({"sigma_alpha": 0}, ValueError, "sigma_alpha"),
        ({"mu_beta": "one"}, TypeError, "mu_beta"),
    ],
)
def test_bad_simulation_input_is_refused_by_name(kwargs, error, name):
    with pytest.raises(error, match=name):
        simulate_multigene_rna(np.random.default_rng(1), **kwargs)


def test_simulation_refuses_an_integer_seed_for_rng():
    with pytest.raises(TypeError, match="rng"):
        simulate_single_gene_rna(103)


def test_labels_sort_and_extend_past_z():
    assert gene_names(28)[25:] == ["gene_Z", "gene_AA", "gene_AB"]
    assert cell_line_names(12)[:2] == ["cell_01", "cell_02"]


SIMULATIONS = [
    (simulation.simulate_multigene_rna, {}, simulation.MULTIGENE_RNA),
    (simulation.simulate_sgrna_cell_line, {}, simulation.SGRNA_CELL_LINE),
    (simulation.simulate_sgrna_copy_number, {}, simulation.SGRNA_COPY_NUMBER),
    (simulation.simulate_sgrna_copy_number, {"rho": -0.6}, simulation.SGRNA_COPY_NUMBER),
]


@pytest.mark.parametrize(("simulate", "options", "predictor"), SIMULATIONS)
def test_each_simulation_is_its_predictor_plus_noise(simulate, options, predictor):
    data, truth = simulate(np.random.default_rng(21), **options)
    residuals = data["logfc"].to_numpy() - predictor.mean(data, truth)
    n = len(residuals)
    # The residuals are the N(0, sigma) noise: mean within 4 standard errors
    # of 0, sd within 4 standard errors (sigma / sqrt(2n)) of sigma.
    assert abs(residuals.mean()) < 4 * truth["sigma"] / np.sqrt(n)
    assert abs(residuals.std(ddof=1) - truth["sigma"]) < 4 * truth["sigma"] / np.sqrt(2 * n)


def test_the_predictor_looks_effects_up_by_label_not_position():
    data, truth = simulation.simulate_multigene_rna(np.random.default_rng(2))
    shuffled = {**truth, "alpha": truth["alpha"].sample(frac=1.0, random_state=1)}
    np.testing.assert_allclose(
        simulation.MULTIGENE_RNA.mean(data, shuffled), simulation.MULTIGENE_RNA.mean(data, truth)
    )


def test_the_predictor_refuses_effects_it_cannot_place():
    data, truth = simulation.simulate_multigene_rna(np.random.default_rng(2))
    with pytest.raises(ValueError, match=r"effects lack \['beta'\]"):
        simulation.MULTIGENE_RNA.mean(data, {"alpha": truth["alpha"]})
    by_sgrna = truth["alpha"].rename_axis("sgrna")
    with pytest.raises(ValueError, match="indexed by 'sgrna', not a column"):
        simulation.MULTIGENE_RNA.mean(data, {**truth, "alpha": by_sgrna})
    with pytest.raises(ValueError, match="no value for some gene labels"):
        simulation.MULTIGENE_RNA.mean(data, {**truth, "alpha": truth["alpha"].iloc[:2]})
    with pytest.raises(ValueError, match="slope and covariate go together"):
        simulation.LinearPredictor("alpha", slope="beta")


@pytest.mark.parametrize("rho", [0.0, -0.6])
def test_diploid_truth_gives_the_same_means_on_the_centred_copy_number(rho):
    data, truth = simulation.simulate_sgrna_copy_number(np.random.default_rng(4), rho=rho)
    diploid = simulation.diploid_truth(truth)
    np.testing.assert_allclose(
        simulation.SGRNA_DIPLOID_COPY_NUMBER.mean(data, diploid),
        simulation.SGRNA_COPY_NUMBER.mean(data, truth),
    )
    np.testing.assert_allclose(data["cna_diploid"], data["cna"] - 2.0)
    assert diploid["beta"] is truth["beta"] and diploid["delta"] is truth["delta"]
    # The sd of gamma + 2 delta for independent gene effects, checked by simulation.
    draws = np.random.default_rng(5)
    sums = draws.normal(0, truth["sigma_gamma"], 200_000) + 2 * draws.normal(
        0, truth["sigma_delta"], 200_000
    )
    assert diploid["sigma_gamma"] == pytest.approx(sums.std(), rel=0.01)
