"""The genome-wide fit: NUTS on a random sample of genes, then every gene on
a grid, with every parameter the genes share fitted again from all of them.

Given the shared parameters (intercept, copy-number effects, the two sds and
the counts' dispersion) the genes of :func:`~crispr_models.screen.model.read_count_model`
are independent, and each gene's posterior is one-dimensional: its fold
change at its own copy number, with its guides integrated out by the same
quadrature the model samples with. So, for each of a few draws of the
shared parameters, every gene's log likelihood is tabulated on a grid
(:func:`gene_likelihood_grids`), and the genes' posteriors follow from it
(:func:`effects_on_grids`).

Given the draws of a sample fit, this is exact: the chapter checks it against
NUTS on the sample's genes (:func:`integrate_gene_effects`). But the shared
parameters are then the sample's, and a sample knows them poorly:

- the gene-level ones (intercept, ``sigma_gene``, one mean per copy-number
  level), where the rare copy numbers have a handful of genes each: fitted
  to 1,000 of 4,000 genes they moved the genes of each level together, by
  0.1 to 2 posterior sds (an RMSE of 0.41 sds, 18 of 4,000 calls changed)
  against NUTS on all 4,000 (``benchmarks/screen_scaling.py``);
- the guide-level ones: a 1,000-gene sample put ``sigma_guide`` at
  0.10 +- 0.035, the whole genome at 0.173 +- 0.005, and with the
  sample's the genome's gene sds came out 3 % narrower than NUTS's on all
  genes (median ratio 0.969; 1.003 with the genome's).

:func:`genome_wide_fit` therefore re-estimates both from every gene, each
by a normal approximation at its mode (with 17,000 genes the posterior of
a dozen shared parameters is close to normal): ``sigma_guide`` and
the noise model's parameter by Newton steps on the genome's log marginal likelihood, the
gene hierarchy profiled out (:func:`fit_guide_parameters`), then, given
each draw of those, the gene hierarchy (:func:`fit_gene_hierarchy`). The
sample gives where to start. One approximation remains: the few genes whose
guides straddle a copy-number breakpoint (30 of AU565's 17,223) shift
their guides by the copy-number effects of the grid's placement (the
sample's while the guide-level parameters are fitted, then the genome's
mode), not of each draw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize
from scipy.special import digamma, gammaln, logsumexp

from crispr_models.core.input_checks import (
    RandomSource,
    check_choice,
    check_positive_int,
    check_rng,
)
from crispr_models.screen.analysis import moment_estimates, normalised_weights
from crispr_models.screen.data import Screen, log_fold_changes
from crispr_models.screen.model import (
    DIPLOID,
    GENE_DF_PRIOR,
    GENE_PRIORS,
    NOISE_PARAMETERS,
    PRIOR_SCALES,
    TOP_COPY_LEVEL,
    GeneLayout,
    compile_count_terms,
    compile_guide_marginal,
    copy_number_labels,
    expand_to_layout,
    noise_of,
)

#: Grid points per gene: a coarse pass finds where each gene's posterior
#: lies, then each fine pass spans FINE_HALF_WIDTH_SDS of the last pass's
#: sds around its mean; the last is the tabulated grid.
COARSE_POINTS, FINE_POINTS, FINE_PASSES = 25, 33, 2
#: The coarse grid spans the gene's naive median fold change and its prior
#: mean, this much (log2 units) beyond each; the fine grid's half-width is
#: this many sds of the previous pass.
COARSE_MARGIN, FINE_HALF_WIDTH_SDS = 3.0, 8.0

#: The grid is placed for a prior on the genes this many times wider than
#: the draw's, so that it still holds each gene's posterior once the gene
#: hierarchy is fitted again (:func:`fit_gene_hierarchy`) and moves it.
PLACEMENT_PRIOR_WIDENING = 2.0
#: Newton steps allowed to polish the gene hierarchy's mode after BFGS.
MAX_NEWTON_STEPS = 10
#: :func:`fit_guide_parameters`'s grid: points per gene, and how many of the
#: gene's sds it spans either side of its mode.
PROFILE_POINTS, PROFILE_HALF_WIDTH_SDS = 13, 6.0
#: The guide-level parameters' Newton steps: at most this many posterior sds
#: at first (a step that overshoots is halved), a limit that grows
#: :data:`STEP_LIMIT_GROWTH`-fold after each full step taken (a start drawn
#: from the prior, as the book's stubbed-sampler runs have it, can lie
#: thousands of the genome's sds away), and done when one is under the second.
MAX_STEP_SDS, CONVERGED_STEP_SDS = 20.0, 0.1
STEP_LIMIT_GROWTH = 4.0
#: Newton steps allowed to find the guide-level parameters' mode (a start
#: near it takes 3 to 5; one drawn from the prior up to 15).
MAX_GUIDE_STEPS = 25
#: Their finite differences span this many posterior sds (once the first
#: Hessian gives them): central differences over one sd were off by 0.2 sd
#: in the mode of a skewed 1,000-gene posterior.
DIFFERENCE_STEP_SDS = 0.5
#: The first finite-difference step of the guide-level parameters (log
#: scale), as a share of the spread of the sample's draws: the genome has
#: many times the sample's guides, and so a narrower posterior.
FIRST_STEP_OF_SAMPLE_SD = 0.25

#: The parameters every gene shares, the noise model's among them (one of
#: :data:`~crispr_models.screen.model.NOISE_PARAMETERS`).
SHARED_PARAMETERS = (
    "intercept",
    "sigma_gene",
    "gene_df",
    "sigma_guide",
    *NOISE_PARAMETERS.values(),
)


def guide_parameters(noise: str) -> tuple[str, str]:
    """What :func:`fit_guide_parameters` fits, in this order (as logs):
    ``sigma_guide`` and the ``noise`` model's parameter."""
    return ("sigma_guide", NOISE_PARAMETERS[noise])


def shared_parameter_draws(posterior: xr.DataTree | xr.Dataset, num_draws: int) -> list[dict]:
    """``num_draws`` evenly spaced posterior draws of the shared parameters
    (and the copy-number effect at every level, when the model has one)."""
    num_draws = check_positive_int("num_draws", num_draws)
    if isinstance(posterior, xr.DataTree):
        posterior = posterior.to_dataset()
    stacked = posterior.stack(sample=("chain", "draw"))
    chosen = np.linspace(0, stacked.sizes["sample"] - 1, min(num_draws, stacked.sizes["sample"]))
    names = [*SHARED_PARAMETERS, "copy_number_effect"]
    draws = []
    for i in chosen.astype(int):
        draw = {n: stacked[n].isel(sample=i).to_numpy() for n in names if n in stacked}
        draws.append({n: (float(v) if v.ndim == 0 else v) for n, v in draw.items()})
    return draws


@dataclass(frozen=True)
class GeneGrids:
    """Per draw of the shared parameters, every gene's grid of fold changes
    at its own level (genes x points) and its counts' log likelihood there."""

    layout: GeneLayout
    draws: list[dict]
    points: list[np.ndarray]
    log_likelihood: list[np.ndarray]
    seconds: float


@dataclass(frozen=True)
class _Genome:
    """What every tabulation of a screen needs, compiled once: its layout,
    the guides' marginal likelihood, the counts' terms free of the means and
    each gene's naive median fold change (where its coarse grid starts)."""

    layout: GeneLayout
    noise: str
    marginal: object
    count_terms: object
    naive: np.ndarray

    @classmethod
    def of(cls, screen: Screen, noise: str, layout: GeneLayout) -> _Genome:
        naive = pd.Series(log_fold_changes(screen).to_numpy()).groupby(layout.gene_index).median()
        return cls(
            layout,
            noise,
            compile_guide_marginal(screen, noise),
            compile_count_terms(screen, noise),
            naive.to_numpy(),
        )

    @classmethod
    def for_draws(cls, screen: Screen, draws: list[dict]) -> _Genome:
        """The genome for ``draws``' noise model and copy-number levels."""
        _require_draws(draws)
        layout = GeneLayout.for_effect(screen, draws[0].get("copy_number_effect"))
        return cls.of(screen, noise_of(draws[0]), layout)


def gene_likelihood_grids(screen: Screen, draws: list[dict]) -> GeneGrids:
    """Tabulate every gene's log likelihood given each of ``draws``
    (:func:`shared_parameter_draws`), on a grid placed where the gene's
    posterior given that draw lies: the costly step, one pass over the
    genome per draw and grid point."""
    return _grids(_Genome.for_draws(screen, draws), draws, time.perf_counter())


def _require_draws(draws: list[dict]) -> None:
    if not draws:
        raise ValueError("draws is empty: give at least one draw of the shared parameters")


def _grids(genome: _Genome, draws: list[dict], start: float, place_once: bool = False) -> GeneGrids:
    """Each draw's grid and log likelihood; with ``place_once``, the first
    draw's grid serves every draw (for draws from the genome's own narrow
    posterior of the guide-level parameters: placing each grid again took
    2.7 times as many passes over the genome for grids that differ by a
    fraction of a gene's sd; :func:`effects_on_grids` reports the density
    left at their edges)."""
    _require_draws(draws)
    points, log_likelihood = [], []
    for index, draw in enumerate(draws):
        if place_once and index > 0:
            grid, found = points[0], _log_likelihood(genome, points[0], draw)
        else:
            grid, found = _tabulate(genome, draw)
        points.append(grid)
        log_likelihood.append(found)
    seconds = time.perf_counter() - start
    return GeneGrids(genome.layout, list(draws), points, log_likelihood, seconds)


def effects_on_grids(
    grids: GeneGrids, threshold: float, hierarchies: list[dict] | None = None
) -> pd.DataFrame:
    """Every gene's effect (log2 fold change at two copies), mixed over the
    grids: mean, sd, probability below ``threshold``, as
    :func:`~crispr_models.screen.analysis.gene_effects` gives them from NUTS.
    The gene-level parameters (intercept, ``sigma_gene``,
    ``copy_number_effect``) are each grid's own draw's, or ``hierarchies``'
    (the same number for each grid, in the grids' order,
    :func:`fit_gene_hierarchy`). ``attrs`` hold the largest posterior density
    left at a grid's edge, relative to its mode (small means the grid held
    the posterior)."""
    hierarchies = grids.draws if hierarchies is None else hierarchies
    per_grid, left = divmod(len(hierarchies), len(grids.draws))
    if left or not per_grid:
        raise ValueError(
            f"hierarchies has {len(hierarchies)} entries: give the same number for each "
            f"of the {len(grids.draws)} grids"
        )
    results = [
        _posterior_moments(
            grids.layout,
            grids.points[index // per_grid],
            grids.log_likelihood[index // per_grid],
            hierarchy,
            threshold,
        )
        for index, hierarchy in enumerate(hierarchies)
    ]
    means = np.stack([r[0] for r in results])
    table = pd.DataFrame(
        {
            "mean": means.mean(axis=0),
            # the law of total variance over the grids
            "sd": np.sqrt(np.stack([r[1] for r in results]).mean(axis=0) + means.var(axis=0)),
            "prob_below": np.stack([r[2] for r in results]).mean(axis=0),
        },
        index=pd.Index(grids.layout.genes, name="gene"),
    )
    table.attrs["draws"] = len(results)
    table.attrs["max_edge_density"] = float(max(r[3] for r in results))
    return table


def integrate_gene_effects(screen: Screen, draws: list[dict], threshold: float) -> pd.DataFrame:
    """Every gene's effect given ``draws`` of the shared parameters, all of
    them (the gene-level ones included) the draws' own:
    :func:`gene_likelihood_grids` then :func:`effects_on_grids`; ``attrs``
    also hold the seconds taken."""
    grids = gene_likelihood_grids(screen, draws)
    table = effects_on_grids(grids, threshold)
    table.attrs["seconds"] = grids.seconds
    return table


def fit_gene_hierarchy(grids: GeneGrids, rng: RandomSource, draws_per_grid: int = 1) -> list[dict]:
    """Re-estimate the by-level model's gene-level parameters from every
    gene: for each grid, the posterior of the intercept, ``sigma_gene`` and
    the copy-number level means given that grid's guide-level parameters,
    with each gene's fold change integrated over its grid, approximated as
    normal at its mode (in log ``sigma_gene``; the priors are the model's),
    and ``draws_per_grid`` draws from it, drawn with ``rng`` (a draw costs
    a sum over the grid; a grid, a pass over every guide). Returns the
    grids' draws with these parameters replaced, grid by grid, for
    :func:`effects_on_grids`."""
    rng = check_rng(rng)
    draws_per_grid = check_positive_int("draws_per_grid", draws_per_grid)
    levels = grids.layout.gene_level
    hierarchies = []
    for draw, grid, found in zip(grids.draws, grids.points, grids.log_likelihood, strict=True):
        heavy = _heavy(draw)
        mode, covariance = _laplace(levels, grid, found, _pack(draw), heavy)
        for values in rng.multivariate_normal(mode, covariance, size=draws_per_grid):
            hierarchies.append({**draw, **_unpack(values, heavy)})
    return hierarchies


@dataclass(frozen=True)
class GuideParameterFit:
    """:func:`fit_guide_parameters`'s normal approximation to the posterior
    of the logs of ``names`` (``sigma_guide`` and the noise model's
    parameter) given every gene: its mode and covariance, the gene
    hierarchy's mode there, and how many times the genome's likelihood was
    tabulated to find them."""

    names: tuple[str, str]
    mode: np.ndarray
    covariance: np.ndarray
    hierarchy: dict
    evaluations: int

    def draws(self, num_draws: int, rng: RandomSource) -> list[dict]:
        """``num_draws`` draws of the guide-level parameters, each with the
        gene hierarchy's mode (where :func:`gene_likelihood_grids` places
        its grids; :func:`fit_gene_hierarchy` then draws the hierarchy)."""
        logs = check_rng(rng).multivariate_normal(self.mode, self.covariance, size=num_draws)
        return [
            {**self.hierarchy, **dict(zip(self.names, np.exp(row).tolist(), strict=True))}
            for row in logs
        ]


def fit_guide_parameters(screen: Screen, draws: list[dict]) -> GuideParameterFit:
    """The posterior of ``sigma_guide`` and the noise model's parameter
    (``draws``' own) given every gene of ``screen``, approximated as normal
    in their logs at its mode.

    The log posterior at a value of the two is the genome's log likelihood
    (each gene integrated over its grid, the guides over theirs), the gene
    hierarchy at its mode given them (profiled out, which leaves their
    marginal posterior's mode and curvature when the whole is normal), and
    their priors. Its mode is found by Newton steps on central differences
    (:func:`_newton_mode`), from the mean of ``draws`` (a sample fit's),
    with the grids placed once, for that mean."""
    return _fit_guide_parameters(_Genome.for_draws(screen, draws), draws)


def _fit_guide_parameters(genome: _Genome, draws: list[dict]) -> GuideParameterFit:
    _require_draws(draws)
    names = guide_parameters(genome.noise)
    logs = np.log([[d[name] for name in names] for d in draws])
    mean = dict(zip(names, np.exp(logs.mean(axis=0)), strict=True))
    centre = {**draws[len(draws) // 2], **mean}
    grid = _profile_grid(genome, centre)
    hierarchy, evaluations, heavy = _pack(centre), 0, _heavy(centre)

    def log_posterior(log_values: np.ndarray) -> float:
        nonlocal hierarchy, evaluations
        values = dict(zip(names, np.exp(log_values), strict=True))
        found = _log_likelihood(genome, grid, {**centre, **values})
        levels = genome.layout.gene_level
        hierarchy = _hierarchy_mode(levels, grid, found, hierarchy, heavy)
        value, _ = _hierarchy_log_posterior(hierarchy, levels, grid, found, heavy)
        value += float(genome.count_terms(values[names[1]]))
        for name, log_value in zip(names, log_values, strict=True):
            # half-normal prior, with the Jacobian of the log
            value += -0.5 * (values[name] / PRIOR_SCALES[name]) ** 2 + log_value
        evaluations += 1
        return value

    # the draws' spread; where they do not vary, 0.2 (a fifth in the value)
    spread = np.where(logs.std(axis=0) > 0.0, logs.std(axis=0), 0.2)
    mode, covariance = _newton_mode(
        log_posterior, logs.mean(axis=0), FIRST_STEP_OF_SAMPLE_SD * spread
    )
    log_posterior(mode)  # the hierarchy's mode at the mode
    hierarchy_mode = _unpack(hierarchy, heavy)
    return GuideParameterFit(names, mode, covariance, {**centre, **hierarchy_mode}, evaluations)


def _newton_mode(log_density, start: np.ndarray, step: np.ndarray) -> tuple:
    """Mode and covariance (the inverse of minus the Hessian) of a smooth,
    nearly normal log density of a few parameters: Newton steps on the
    gradient and Hessian by central differences (over ``step`` at first,
    then :data:`DIFFERENCE_STEP_SDS` of the current posterior sds), each at
    most a limit of posterior sds (:data:`MAX_STEP_SDS`, growing
    :data:`STEP_LIMIT_GROWTH`-fold after each full step) and halved until the
    density rises, until one is under :data:`CONVERGED_STEP_SDS` or no point
    along it is higher (the mode, to the differences' resolution: on a
    skewed density their gradient is off by a fraction of an sd). Where the
    density is not concave (far in a tail; in the logs of sds it can be
    convex), the step goes up the gradient instead, the limit's number of
    differences long (the limit starts again at :data:`MAX_STEP_SDS` when
    the kind of step changes)."""
    point, step = np.asarray(start, dtype=float), np.asarray(step, dtype=float)
    value, limit, was_concave = log_density(point), MAX_STEP_SDS, None
    for _ in range(MAX_GUIDE_STEPS):
        gradient, hessian = _finite_difference_derivatives(log_density, point, value, step)
        concave = bool(np.all(np.linalg.eigvalsh(-hessian) > 0.0))
        if concave != was_concave:  # the limit grows only along one kind of step
            limit, was_concave = MAX_STEP_SDS, concave
        if concave:
            covariance = np.linalg.inv(-hessian)
            move = covariance @ gradient
            sds = float(np.sqrt(move @ gradient))
            if sds < CONVERGED_STEP_SDS:
                return point + move, covariance
            move *= min(1.0, limit / sds)
        else:
            scaled = gradient * step
            move = limit * step * scaled / np.linalg.norm(scaled)
        found, found_value, full = _uphill(log_density, point, value, move)
        if found_value < value:
            if concave:
                return point, covariance
            break
        point, value = found, found_value
        limit = limit * STEP_LIMIT_GROWTH if full else MAX_STEP_SDS
        if concave:
            step = DIFFERENCE_STEP_SDS * np.sqrt(np.diag(covariance))
    raise RuntimeError(
        f"the mode of the guide-level parameters' posterior was not found in "
        f"{MAX_GUIDE_STEPS} Newton steps (last at {np.exp(point)})"
    )


def _uphill(log_density, point, value, move, halvings=6):
    """``point + move``, the move halved until the density there is no
    lower than ``value`` (at most ``halvings`` times): the point, its
    density (lower than ``value`` if no halving found one) and whether the
    whole move was taken."""
    for halving in range(halvings):
        found = log_density(point + move)
        if found >= value:
            return point + move, found, halving == 0
        move = 0.5 * move
    return point + 2.0 * move, found, False


def _finite_difference_derivatives(function, point, centre, step):
    """Gradient and Hessian of ``function`` at ``point`` (where it is
    ``centre``) by central differences (across too: forward ones there were
    off by 6 % at a step of one sd on a skewed density, central ones 0.3 %).
    A mixed derivative takes the two corners along the diagonal, with the
    axis points already at hand (second order like the four-corner rule,
    at half its passes over the genome)."""
    size = len(point)
    shifts = np.diag(step)
    up = np.array([function(point + shifts[i]) for i in range(size)])
    down = np.array([function(point - shifts[i]) for i in range(size)])
    gradient = (up - down) / (2.0 * step)
    hessian = np.diag((up - 2.0 * centre + down) / step**2)
    for i in range(size):
        for j in range(i + 1, size):
            both_up = function(point + shifts[i] + shifts[j])
            both_down = function(point - shifts[i] - shifts[j])
            mixed = (both_up - up[i] - up[j] + 2.0 * centre - down[i] - down[j] + both_down) / (
                2.0 * step[i] * step[j]
            )
            hessian[i, j] = hessian[j, i] = mixed
    return gradient, hessian


@dataclass(frozen=True)
class GenomeFit:
    """:func:`genome_wide_fit`'s result: the gene effects, the shared
    parameters behind them (one draw per grid), the guide-level fit, and
    the seconds it all took."""

    effects: pd.DataFrame
    parameters: list[dict]
    guide_fit: GuideParameterFit
    #: the copy-number levels of ``parameters``' ``copy_number_effect``
    level_labels: tuple[str, ...]
    seconds: float


#: Where :func:`genome_wide_fit` starts without a sample fit
#: (:func:`starting_draws`): near the middle of the priors, no copy-number
#: effect, and the noise of a typical screen.
STARTING_VALUES = {
    "intercept": 0.0,
    "sigma_gene": 0.5,
    "gene_df": 10.0,
    "sigma_guide": 0.2,
    "excess_per_read": 50.0,
    "excess_cv": 0.5,
}


def starting_draws(
    noise: str, gene_prior: str = "student_t", screen: Screen | None = None
) -> list[dict]:
    """One draw of the shared parameters to start :func:`genome_wide_fit`
    from, for a screen fitted without NUTS on a sample: every parameter it
    fits again, so the start only has to be within reach. Given the
    ``screen``, ``sigma_guide`` and the noise start at the counts' own
    moment estimates
    (:func:`~crispr_models.screen.analysis.moment_estimates`): on AU565
    that halved the passes over the genome the fit needs."""
    check_choice("noise", noise, tuple(NOISE_PARAMETERS))
    check_choice("gene_prior", gene_prior, GENE_PRIORS)
    names = ["intercept", "sigma_gene", "sigma_guide", NOISE_PARAMETERS[noise]]
    if gene_prior == "student_t":
        names.append("gene_df")
    draw = {name: STARTING_VALUES[name] for name in names}
    if screen is not None:
        draw.update(moment_estimates(screen, noise))
    return [{**draw, "copy_number_effect": np.zeros(TOP_COPY_LEVEL + 1)}]


def _with_gene_prior(draw: dict, gene_prior: str) -> dict:
    """``draw`` with (a start for) or without the Student-t's ``gene_df``."""
    without = {k: v for k, v in draw.items() if k != "gene_df"}
    if gene_prior == "normal":
        return without
    return {"gene_df": STARTING_VALUES["gene_df"], **draw}


def genome_wide_fit(
    screen: Screen,
    draws: list[dict],
    threshold: float,
    rng: RandomSource,
    split_amplicons: bool = False,
    num_draws: int | None = None,
    gene_prior: str | None = None,
    hierarchy_draws: int = 1,
) -> GenomeFit:
    """Every gene of ``screen``, with every shared parameter fitted again
    from all of them, starting from ``draws`` of a by-level sample fit:
    :func:`fit_guide_parameters`, ``len(draws)`` draws of those
    on :func:`gene_likelihood_grids`, :func:`fit_gene_hierarchy` on each
    (``hierarchy_draws`` draws of the gene hierarchy per grid), and the gene
    effects mixed over them (:func:`effects_on_grids`): as many grids as
    ``num_draws`` (by default one per draw given). A grid costs a pass over
    every guide, a hierarchy draw a sum over the grids; the guide-level
    parameters' posterior is the narrower (every guide informs it), so a
    few grids with several hierarchy draws each cost less than as many
    grids for the same Monte Carlo error. On AU565 (2 cores), against 10
    grids of one draw: a second run of 10 grids moved the genes' means by
    0.011 posterior sds (RMSE; 2 of 478 calls changed, 100-114 s); 3 grids
    of 4 draws by 0.013 and 0.016 (1 and 4 calls, 65-73 s); 1 grid of 12 by
    0.026 (3 calls, 63 s); 4 grids of one draw by 0.025 and 0.072 (2 and
    6 calls). With
    ``split_amplicons`` the model is ``"by_amplicon"``'s: each focal
    amplicon's level starts at the draws' top level, and is fitted with
    the rest of the gene hierarchy. ``gene_prior`` (``"student_t"`` or
    ``"normal"``; by default the draws') sets the genes' prior: a Student-t
    fitted from draws of a normal one starts at
    ``STARTING_VALUES["gene_df"]`` degrees of freedom (a few hundred genes,
    as NUTS fits, pin its tails poorly; every gene does)."""
    rng = check_rng(rng)
    start = time.perf_counter()
    if gene_prior is not None:
        check_choice("gene_prior", gene_prior, GENE_PRIORS)
        draws = [_with_gene_prior(d, gene_prior) for d in draws]
    if split_amplicons:
        _require_draws(draws)
        layout = GeneLayout.of(screen, split_amplicons=True)
        draws = [
            {**d, "copy_number_effect": expand_to_layout(d["copy_number_effect"], layout)}
            for d in draws
        ]
        genome = _Genome.of(screen, noise_of(draws[0]), layout)
    else:
        genome = _Genome.for_draws(screen, draws)  # compiled once for both passes
    guide_fit = _fit_guide_parameters(genome, draws)
    num_draws = len(draws) if num_draws is None else check_positive_int("num_draws", num_draws)
    grids = _grids(genome, guide_fit.draws(num_draws, rng), time.perf_counter(), place_once=True)
    parameters = fit_gene_hierarchy(grids, rng, hierarchy_draws)
    effects = effects_on_grids(grids, threshold, parameters)
    return GenomeFit(
        effects, parameters, guide_fit, genome.layout.level_labels, time.perf_counter() - start
    )


def parameter_table(draws: list[dict], level_labels: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The shared parameters of draws (:func:`shared_parameter_draws` or a
    :class:`GenomeFit`'s), one row per draw: intercept, the two sds,
    the noise model's parameter and the copy-number effect at each level,
    labelled (``level_labels``; by default the copy numbers')."""
    labels = copy_number_labels() if level_labels is None else level_labels
    return pd.DataFrame(
        [
            {
                **{name: d[name] for name in SHARED_PARAMETERS if name in d},
                **dict(zip(labels, d["copy_number_effect"], strict=True)),
            }
            for d in draws
        ]
    )


def _heavy(draw: dict) -> bool:
    """Whether ``draw``'s genes have a Student-t prior (a ``gene_df``)."""
    return draw.get("gene_df") is not None


def _pack(draw: dict) -> np.ndarray:
    """The hierarchy as the optimiser's vector: intercept, log sigma_gene,
    log gene_df (with a Student-t prior) and the level means a + f(c) of
    every level but two copies."""
    effect = np.zeros(TOP_COPY_LEVEL + 1)
    if draw.get("copy_number_effect") is not None:
        effect = np.asarray(draw["copy_number_effect"], dtype=float)
    level_means = np.delete(draw["intercept"] + effect, DIPLOID)
    spread = [np.log(draw["sigma_gene"])] + ([np.log(draw["gene_df"])] if _heavy(draw) else [])
    return np.concatenate([[draw["intercept"]], spread, level_means])


def _first_level_mean(heavy: bool) -> int:
    """Where the level means start in the packed hierarchy (:func:`_pack`)."""
    return 3 if heavy else 2


def _unpack(theta: np.ndarray, heavy: bool) -> dict:
    first = _first_level_mean(heavy)
    intercept, level_means = theta[0], np.insert(theta[first:], DIPLOID, theta[0])
    found = {
        "intercept": float(intercept),
        "sigma_gene": float(np.exp(theta[1])),
        "copy_number_effect": level_means - intercept,
    }
    if heavy:
        found["gene_df"] = float(np.exp(theta[2]))
    return found


def _gene_prior_terms(z, gene_df):
    """The genes' log prior density in z (their standardised distance from
    their level's mean) up to its normalising constant, and its
    derivatives in z and (Student-t only; else None) in log gene_df."""
    if gene_df is None:
        return -0.5 * z**2, -z, None
    nu, z2 = gene_df, z**2
    kernel = -0.5 * (nu + 1.0) * np.log1p(z2 / nu)
    by_log_df = -0.5 * nu * np.log1p(z2 / nu) + 0.5 * (nu + 1.0) * z2 / (nu + z2)
    return kernel, -(nu + 1.0) * z / (nu + z2), by_log_df


def _hierarchy_log_posterior(theta, levels, grid, log_likelihood, heavy=False):
    """Log posterior of the packed hierarchy (:func:`_pack`) and its
    gradient; each gene's integral over its grid by the rectangle rule
    (the grid's ends are far in the tails)."""
    first = _first_level_mean(heavy)
    intercept, sigma = theta[0], np.exp(theta[1])
    gene_df = np.exp(theta[2]) if heavy else None
    level_means = np.insert(theta[first:], DIPLOID, intercept)
    z = (grid - level_means[levels][:, None]) / sigma
    kernel, by_z, by_log_df = _gene_prior_terms(z, gene_df)
    terms = log_likelihood + kernel
    per_gene = logsumexp(terms, axis=1)
    weights = np.exp(terms - per_gene[:, None])
    free = theta[first:] - intercept
    genes = len(grid)
    value = per_gene.sum() - genes * theta[1]
    # the model's priors: a normal, level means normal about a, sigma_gene
    # half-normal with the Jacobian of its log
    a_scale, level_scale, sigma_scale = (
        PRIOR_SCALES[n] for n in ("intercept", "cn_level_mean", "sigma_gene")
    )
    value += -0.5 * (intercept / a_scale) ** 2 - 0.5 * np.sum((free / level_scale) ** 2)
    value += -0.5 * (sigma / sigma_scale) ** 2 + theta[1]
    by_mean = -(weights * by_z).sum(axis=1) / sigma
    by_level = np.bincount(levels, by_mean, minlength=len(level_means))
    gradient = np.empty_like(theta)
    gradient[0] = by_level[DIPLOID] - intercept / a_scale**2 + free.sum() / level_scale**2
    gradient[1] = -np.sum(weights * z * by_z) - genes - (sigma / sigma_scale) ** 2 + 1.0
    gradient[first:] = np.delete(by_level, DIPLOID) - free / level_scale**2
    if heavy:
        # the Student-t's normalising constant, and gene_df's gamma prior
        # with the Jacobian of its log
        shape, rate = GENE_DF_PRIOR
        nu = gene_df
        value += genes * (gammaln(0.5 * (nu + 1.0)) - gammaln(0.5 * nu) - 0.5 * np.log(nu))
        value += shape * theta[2] - rate * nu
        constant_by_log_df = 0.5 * nu * (digamma(0.5 * (nu + 1.0)) - digamma(0.5 * nu)) - 0.5
        gradient[2] = genes * constant_by_log_df + np.sum(weights * by_log_df) + shape - rate * nu
    return value, gradient


def _hierarchy_negative(levels, grid, log_likelihood, heavy=False):
    """Minus :func:`_hierarchy_log_posterior` and its gradient, as a
    function of the packed hierarchy alone (for the optimisers)."""

    def negative(theta):
        value, gradient = _hierarchy_log_posterior(theta, levels, grid, log_likelihood, heavy)
        return -value, -gradient

    return negative


def _hierarchy_mode(levels, grid, log_likelihood, start, heavy=False):
    """The gene hierarchy's mode by BFGS from ``start`` (its last iterate:
    near the mode, the log posterior's rounding error, not its gradient,
    ends the search, and the value is then exact to far below 1e-6)."""
    negative = _hierarchy_negative(levels, grid, log_likelihood, heavy)
    return optimize.minimize(negative, start, jac=True, method="BFGS").x


def _laplace(levels, grid, log_likelihood, start, heavy=False):
    """Mode and covariance (the inverse of minus the Hessian) of
    :func:`_hierarchy_log_posterior`: BFGS from ``start``, then Newton steps
    on the Hessian by central differences of the gradient until the step
    is under 1e-4 posterior sds (with 17,000 genes the log posterior is of
    order 1e5, and BFGS's line search stops on rounding before its gradient
    test does)."""
    negative = _hierarchy_negative(levels, grid, log_likelihood, heavy)
    theta = _hierarchy_mode(levels, grid, log_likelihood, start, heavy)
    for _ in range(MAX_NEWTON_STEPS):
        gradient, hessian = negative(theta)[1], _hessian_of(negative, theta)
        try:
            step = -np.linalg.solve(hessian, gradient)
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError as error:
            raise RuntimeError(
                f"the gene hierarchy's posterior is not concave here: {error}"
            ) from error
        theta = theta + step
        # squared distance to the mode in posterior sds; this close, the
        # Hessian just computed is the mode's (no second one is needed)
        if -gradient @ step < 1e-8:
            return theta, np.linalg.inv(hessian)
    raise RuntimeError(
        f"the gene hierarchy's mode was not found in {MAX_NEWTON_STEPS} Newton steps "
        f"(last step {np.sqrt(-gradient @ step):.1e} posterior sds)"
    )


def _hessian_of(negative, theta, step=1e-5):
    """Central differences of ``negative``'s gradient, symmetrised."""
    columns = [
        negative(theta + step * e)[1] - negative(theta - step * e)[1] for e in np.eye(len(theta))
    ]
    hessian = np.array(columns) / (2.0 * step)
    return 0.5 * (hessian + hessian.T)


def _profile_grid(genome: _Genome, draw: dict) -> np.ndarray:
    """A coarser grid than :func:`_tabulate`'s, :data:`PROFILE_POINTS` points
    over :data:`PROFILE_HALF_WIDTH_SDS` of each gene's sds: enough for the
    gene integrals of :func:`fit_guide_parameters` (the rectangle rule on a
    normal at one point per sd is exact to 1e-8), in a third of the time."""
    grid, found = _tabulate(genome, draw)
    prior = _log_prior(
        grid, _prior_mean(genome.layout, draw), draw["sigma_gene"], draw.get("gene_df")
    )
    centre, sd = _placement(grid, found + prior)
    offsets = PROFILE_HALF_WIDTH_SDS * np.linspace(-1.0, 1.0, PROFILE_POINTS)
    return centre[:, None] + sd[:, None] * offsets[None, :]


def _tabulate(genome: _Genome, draw: dict):
    """One draw's grid (genes x points) and log likelihood on it, placed by
    a coarse and :data:`FINE_PASSES` fine passes over the draw's posterior."""
    prior_mean = _prior_mean(genome.layout, draw)
    # a gene's posterior lies between its data and its prior
    low = np.minimum(genome.naive, prior_mean) - COARSE_MARGIN
    high = np.maximum(genome.naive, prior_mean) + COARSE_MARGIN
    grid = low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, COARSE_POINTS)[None, :]
    found = _log_likelihood(genome, grid, draw)
    for _ in range(FINE_PASSES):
        prior = _log_prior(
            grid, prior_mean, PLACEMENT_PRIOR_WIDENING * draw["sigma_gene"], draw.get("gene_df")
        )
        centre, sd = _placement(grid, found + prior)
        offsets = FINE_HALF_WIDTH_SDS * np.linspace(-1.0, 1.0, FINE_POINTS)
        grid = centre[:, None] + sd[:, None] * offsets[None, :]
        found = _log_likelihood(genome, grid, draw)
    return grid, found


def _prior_mean(layout: GeneLayout, hierarchy: dict) -> np.ndarray:
    """Each gene's prior mean at its own level, a + f(c_g)."""
    shift = layout.gene_shift(hierarchy.get("copy_number_effect"))
    return hierarchy["intercept"] + np.asarray(shift, dtype=float) * np.ones(len(layout.genes))


def _log_prior(grid, prior_mean, sigma_gene, gene_df=None):
    """The genes' log prior on their grids, up to a constant per gene:
    normal, or Student-t with ``gene_df`` degrees of freedom."""
    z = (grid - prior_mean[:, None]) / sigma_gene
    return _gene_prior_terms(z, gene_df)[0]


def _log_likelihood(genome: _Genome, grid: np.ndarray, draw: dict) -> np.ndarray:
    """Each gene's counts' log likelihood at each point of its row of
    ``grid`` (its fold change at its own level) given ``draw``, guides
    integrated out, up to the terms free of the means."""
    layout, effect = genome.layout, draw.get("copy_number_effect")
    noise_value = draw[NOISE_PARAMETERS[genome.noise]]
    found = np.empty_like(grid)
    for j in range(grid.shape[1]):
        means = layout.guide_means(grid[:, j], effect)
        per_guide, _, _ = genome.marginal(means, draw["sigma_guide"], noise_value)
        found[:, j] = np.bincount(layout.gene_index, per_guide, minlength=len(grid))
    return found


def _posterior_moments(layout, grid, log_likelihood, hierarchy, threshold):
    """Per gene, given one grid and hierarchy: mean and variance of the
    effect at two copies, probability below ``threshold``, and the grid's
    edge density."""
    prior_mean = _prior_mean(layout, hierarchy)
    gene_shift = prior_mean - hierarchy["intercept"]
    density = log_likelihood + _log_prior(
        grid, prior_mean, hierarchy["sigma_gene"], hierarchy.get("gene_df")
    )
    mean, variance = _moments(grid, density)
    below = _probability_below(grid, density, threshold + gene_shift)
    relative = np.exp(density - density.max(axis=1, keepdims=True))
    edge = float(np.max(np.maximum(relative[:, 0], relative[:, -1])))
    return mean - gene_shift, variance, below, edge


def _placement(grid, log_density):
    """Where the next grid goes: each gene's mode and the larger of its
    posterior sd and the sd the log density's curvature at the mode gives
    (the curvature resolves a posterior narrower than the grid's cells;
    these posteriors are log-concave, so the mode is one)."""
    rows = np.arange(len(grid))
    peak = np.clip(log_density.argmax(axis=1), 1, grid.shape[1] - 2)
    step = grid[rows, peak + 1] - grid[rows, peak]
    left, middle, right = (log_density[rows, peak + k] for k in (-1, 0, 1))
    bend = np.maximum(2.0 * middle - left - right, 1e-12)
    mode = grid[rows, peak] + 0.5 * step * (right - left) / bend
    curvature_sd = step / np.sqrt(bend)
    return mode, np.maximum(np.sqrt(_moments(grid, log_density)[1]), curvature_sd)


def _moments(grid, log_density):
    weights = normalised_weights(log_density)
    mean = np.sum(weights * grid, axis=1)
    return mean, np.sum(weights * (grid - mean[:, None]) ** 2, axis=1)


def _probability_below(grid, log_density, limit):
    """P(value < limit) per gene, the log density taken as linear between
    grid points (exact for an exponential within each cell, which a normal
    nearly is across a cell of a third of its sd; the trapezoid rule on the
    density was off by 0.02 at half an sd)."""
    top = log_density.max(axis=1, keepdims=True)
    left, right = log_density[:, :-1] - top, log_density[:, 1:] - top
    cells = _exponential_integral(left, right, np.diff(grid, axis=1))
    cumulative = np.concatenate([np.zeros((len(grid), 1)), np.cumsum(cells, axis=1)], axis=1)
    # the cell holding the limit, and the part of it below the limit
    cell = np.clip((grid <= limit[:, None]).sum(axis=1) - 1, 0, grid.shape[1] - 2)
    rows = np.arange(len(grid))
    start, width = grid[rows, cell], grid[rows, cell + 1] - grid[rows, cell]
    part = np.clip(limit - start, 0.0, width)
    at_limit = left[rows, cell] + (right[rows, cell] - left[rows, cell]) * part / width
    partial = _exponential_integral(left[rows, cell], at_limit, part)
    return np.clip((cumulative[rows, cell] + partial) / cumulative[:, -1], 0.0, 1.0)


def _exponential_integral(log_start, log_end, width):
    """The integral over ``width`` of exp of the line from ``log_start`` to
    ``log_end``."""
    rise = log_end - log_start
    safe = np.where(np.abs(rise) < 1e-8, 1.0, rise)
    ratio = np.where(np.abs(rise) < 1e-8, 1.0 + 0.5 * rise, np.expm1(safe) / safe)
    return width * np.exp(log_start) * ratio
