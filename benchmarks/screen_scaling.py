"""The cost of scale on a real screen: each method at 1,000, 4,000 and all genes.

    .venv/bin/python benchmarks/screen_scaling.py                     # 1000 4000 all
    .venv/bin/python benchmarks/screen_scaling.py --sizes 1000 --draws 500

Fits :func:`crispr_models.screen.model.read_count_model` (by-level copy
number) to a simple random sample of the AU565 genes of each size (0: all),
each method in its own process so that its peak memory is its own:

- ``nuts``: nutpie, 2 chains x (draws + draws);
- ``nuts-float32``: the same in single precision (PyTensor's ``floatX``;
  nutpie's own arithmetic stays double), compared with ``nuts``; not run
  unless named in ``--methods``;
- ``advi``: PyMC's mean-field ADVI, ``--iterations`` steps;
- ``sample+grid``: nutpie on a ``--sample``-gene random sample (at most the
  size), then every gene of the size on a grid, with every shared parameter
  fitted again to every gene and ``--shared-draws`` draws of them
  (:func:`crispr_models.screen.genome.genome_wide_fit`), as the chapter
  does; a second row, ``sample+grid, sample parameters``, is the grid given
  that many draws of the sample fit's own parameters (its time is not
  counted).

Prints and writes (``--out``, default
``benchmarks/results/screen_scaling.csv``, and the figure of seconds
against genes beside it as ``.png``) one row per method and
size: compile and fit seconds, gradient evaluations per second (NUTS: the
leapfrog steps of the kept draws over the seconds of warm-up and draws, a
lower bound, since warm-up's steps are not kept; ADVI: iterations, one
gradient each), the lowest bulk ESS per second of
sampling over the scalars and gene effects (NUTS only), peak resident memory
(MB) of the process, and, against ``nuts`` at the same size when it ran, the
RMSE of the gene effects in posterior sds, the median ratio of sds and how
many essentiality calls change (P(effect < -1) >= 0.95). The chapter's own
fits are timed in the chapter; these sizes are beyond the book's budget.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("nuts", "nuts-float32", "advi", "sample+grid")
DEFAULT_METHODS = ("nuts", "advi", "sample+grid")
#: The grid with the sample's own shared parameters: a second row of ``sample+grid``.
SAMPLE_PARAMETERS = "sample+grid, sample parameters"
SCALARS = [
    "intercept",
    "sigma_gene",
    "gene_df",
    "sigma_guide",
    "excess_per_read",
    "cn_effect",
    "gene_effect",
]


def run_one(method: str, size: int, args: argparse.Namespace) -> list[dict]:
    """One method at one size, in this process; returns its rows and writes
    its gene effects next to the CSV for the comparison. ``sample+grid``
    gives two rows from one fit: the chapter's (the shared parameters fitted
    again to every gene) and the grid given the sample's own."""
    import arviz as az
    import pytensor

    from crispr_models.core.fitting import fit_advi, sample_posterior
    from crispr_models.core.settings import SamplerSettings
    from crispr_models.screen.analysis import choose_genes, gene_effects
    from crispr_models.screen.data import load_crispy_screen
    from crispr_models.screen.genome import (
        genome_wide_fit,
        integrate_gene_effects,
        shared_parameter_draws,
    )
    from crispr_models.screen.model import read_count_model

    screen = load_crispy_screen()
    rng = np.random.default_rng(args.seed)
    genes = choose_genes(screen.genes, size, rng)
    part = screen.restrict_to_genes(genes)
    settings = SamplerSettings(draws=args.draws, tune=args.draws, chains=2)
    row = {"method": method, "genes": genes.size, "guides": len(part.guides)}
    effects = {}
    if method == "advi":
        idata = fit_advi(read_count_model(part), rng, iterations=args.iterations)
        effects[method] = gene_effects(idata, -1.0)
        row |= {"compile_s": np.nan, "fit_s": idata.posterior.attrs["sampling_time"]}
        row["gradients_per_s"] = args.iterations / row["fit_s"]
    else:
        fitted = part
        if method == "sample+grid" and args.sample < genes.size:
            fitted = part.restrict_to_genes(choose_genes(genes, args.sample, rng))
        precision = "float32" if method == "nuts-float32" else pytensor.config.floatX
        with pytensor.config.change_flags(floatX=precision):
            idata = sample_posterior(read_count_model(fitted), rng, settings)
        attrs = idata.posterior.attrs
        steps = int(idata.sample_stats["n_steps"].sum())
        row |= {"compile_s": attrs["compile_time"], "fit_s": attrs["sampling_time"]}
        row["gradients_per_s"] = steps / attrs["sampling_time"]
        ess = az.ess(idata, var_names=SCALARS)
        row["min_ess_per_s"] = min(float(v.min()) for v in ess.values()) / attrs["sampling_time"]
        row["divergences"] = int(idata.sample_stats["diverging"].sum())
        if method == "sample+grid":
            draws = shared_parameter_draws(idata.posterior, args.shared_draws)
            fit = genome_wide_fit(part, draws, -1.0, rng)
            row |= {"grid_s": fit.seconds, "fit_s": row["fit_s"] + fit.seconds}
            row["sample_genes"] = fitted.genes.size
            row["peak_memory_mb"] = _peak_memory_mb()  # before the comparison's grid
            given_sample = integrate_gene_effects(part, draws, -1.0)
            effects = {method: fit.effects, SAMPLE_PARAMETERS: given_sample}
        else:
            effects[method] = gene_effects(idata, -1.0)
    row.setdefault("peak_memory_mb", _peak_memory_mb())
    for name, table in effects.items():
        table.to_csv(_effects_path(args.out, name, size))
    return [row | {"method": name} for name in effects]


def _peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _effects_path(out: Path, method: str, size: int) -> Path:
    slug = "".join(c if c.isalnum() else "_" for c in method)
    return out.with_name(f"{out.stem}_{slug}_{size}.csv")


def compare_with_nuts(table: pd.DataFrame, out: Path, sizes: list[int]) -> pd.DataFrame:
    from crispr_models.screen.analysis import compare_approximation

    for size in sizes:
        reference = _effects_path(out, "nuts", size)
        if not reference.exists():
            continue
        nuts = pd.read_csv(reference, index_col="gene")
        for method in ("nuts-float32", "advi", "sample+grid", SAMPLE_PARAMETERS):
            path = _effects_path(out, method, size)
            if path.exists():
                found = compare_approximation(nuts, pd.read_csv(path, index_col="gene"), 0.95)
                at = (table["method"] == method) & (table["size"] == size)
                for key in ("rmse_in_sd", "sd_ratio_median", "calls_changed"):
                    table.loc[at, key] = found[key]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 0])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(DEFAULT_METHODS))
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--shared-draws", type=int, default=10)
    parser.add_argument("--seed", type=int, default=103)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/screen_scaling.csv")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # method size, in a child
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args)))
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        for method in args.methods:
            command = [sys.executable, __file__, "--one", method, str(size)]
            command += ["--draws", str(args.draws), "--iterations", str(args.iterations)]
            command += [
                "--sample",
                str(args.sample),
                "--shared-draws",
                str(args.shared_draws),
                "--seed",
                str(args.seed),
                "--out",
                str(args.out),
            ]
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            for row in json.loads(done.stdout.strip().splitlines()[-1]):
                row |= {"size": size, "process_s": time.perf_counter() - start}
                rows.append(row)
                print(json.dumps(row), flush=True)
            table = compare_with_nuts(pd.DataFrame(rows), args.out, args.sizes)
            table.to_csv(args.out, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.round(3).to_string(index=False))
    save_figure(table, args.out.with_suffix(".png"))


def save_figure(table: pd.DataFrame, path: Path) -> None:
    """Seconds against genes, one colour per method: the chapter's cost
    figure, for every size."""
    from crispr_models.plots.screen import plot_fit_costs

    costs = table[table["method"] != SAMPLE_PARAMETERS]  # the same fit's time
    costs = costs.assign(seconds=costs["compile_s"].fillna(0.0) + costs["fit_s"])
    figure = plot_fit_costs(costs, "AU565 on two cores: seconds by method")
    figure.save(path, width=8, height=4.5, dpi=120, verbose=False)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
