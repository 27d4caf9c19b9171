"""The field's tools on the AU565 screen, the slow ones included.

    make peers        # Chronos (TensorFlow) into .venv-peers, then this script
    .venv/bin/python benchmarks/peer_benchmark.py [--methods rra crispy mle chronos]
        [--model-effects book/generated/screen/gene_effects.csv]

Runs each tool on the screen chapter's guides (:func:`load_crispy_screen`,
the same filters), one after the other so that each is timed alone, each in
its own process (wall seconds and peak resident memory of its process tree,
:mod:`crispr_models.screen.peers`):

- ``naive``: the median guide log2 fold change;
- ``rra``: MAGeCK2 RRA, without and with ``--cnv-norm`` (as in the book);
- ``crispy``: CRISPY's Gaussian-process correction (as in the book);
- ``mle``: MAGeCK2 MLE, without and with ``--cnv-norm``, no permutations;
- ``chronos``: Chronos on one line, day ``--days`` assumed, its NB2
  overdispersion given as the screen's own between-replicate estimate
  (:func:`~crispr_models.screen.analysis.replicate_noise`), no copy-number
  correction (it needs three lines).

With ``--model-effects`` (the screen chapter's ``gene_effects.csv``) the
book's count model joins the table (its time and memory are the chapter's,
from its ``methods.csv`` beside that file). Every method is scored on the
genes all of them score, as the chapter scores them
(:func:`crispr_models.screen.scoring.scorecard`, ``--bootstrap`` paired
resamples); prints the table and writes it, with every method's gene
scores, to ``--out`` (default ``benchmarks/results/peers/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from crispr_models.screen.analysis import choose_genes, replicate_noise
from crispr_models.screen.data import amplicons, crispy_file, load_crispy_screen, load_gene_set
from crispr_models.screen.peers import (
    PeerRun,
    chronos_gene_effect,
    crispy_correction,
    mageck_mle,
    mageck_rra,
    method_costs,
    naive_median,
)
from crispr_models.screen.scoring import (
    amplicon_ranks,
    genes_in_amplicons,
    reference_labels,
    scorecard,
    separation_by_reference,
)

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("naive", "rra", "crispy", "mle", "chronos")
DRIVERS = ("ERBB2", "MYC")


def run_methods(screen, methods: list[str], out: Path, days: float, python: Path) -> list[PeerRun]:
    """Each method asked for, in order."""
    runs = []
    for method in methods:
        print(f"running {method} ...", flush=True)
        if method == "naive":
            runs.append(naive_median(screen))
        elif method == "rra":
            runs.append(mageck_rra(screen, out / "mageck_rra"))
            runs.append(mageck_rra(screen, out / "mageck_rra_cnv", copy_number=True))
        elif method == "crispy":
            runs.append(crispy_correction(screen, out / "crispy"))
        elif method == "mle":
            runs.append(mageck_mle(screen, out / "mageck_mle"))
            runs.append(mageck_mle(screen, out / "mageck_mle_cnv", copy_number=True))
        elif method == "chronos":
            noise = replicate_noise(screen, "abundance").attrs
            runs.append(
                chronos_gene_effect(
                    screen,
                    out / "chronos",
                    days=days,
                    excess_variance=noise["excess_cv"] ** 2,
                    python=python,
                )
            )
        print(f"  {runs[-1].method}: {runs[-1].seconds:.0f} s, {runs[-1].peak_mb:.0f} MB")
    return runs


def model_run(effects_path: Path, genes: pd.Index) -> PeerRun:
    """The book's count model from the screen chapter's outputs, on ``genes``."""
    effects = pd.read_csv(effects_path, index_col="gene").reindex(genes)
    costs = pd.read_csv(effects_path.parent / "methods.csv", index_col="method")
    return PeerRun(
        "count model",
        effects["mean"].dropna(),
        float(costs.loc["count model", "seconds"]),
        float(costs.loc["count model", "peak_mb"]),
    )


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--model-effects", type=Path, default=None)
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument(
        "--chronos-python",
        type=Path,
        default=ROOT / ".venv-peers" / "bin" / "python",
        help="a Python with crispr-chronos and psutil (make peers sets up .venv-peers)",
    )
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=103)
    parser.add_argument(
        "--genes", type=int, default=0, help="a random sample of this many genes (0: all)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "peers")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(args.seed)  # the gene sample, then the bootstrap
    screen = load_crispy_screen()
    if args.genes:
        screen = screen.restrict_to_genes(choose_genes(screen.genes, args.genes, rng))
    runs = run_methods(screen, args.methods, args.out, args.days, args.chronos_python)
    if args.model_effects is not None:
        runs.append(model_run(args.model_effects, screen.genes))
    scores = {r.method: r.scores for r in runs}
    pd.DataFrame(scores).to_csv(args.out / "gene_scores.csv", index_label="gene")

    essential = load_gene_set(crispy_file("essential"))
    non_essential = load_gene_set(crispy_file("non_essential"))
    depmap = load_gene_set(crispy_file("depmap_essential"))
    references = {
        "BAGEL": reference_labels(screen.genes, essential, non_essential),
        "DepMap": reference_labels(screen.genes, depmap, non_essential - depmap),
    }
    separation = separation_by_reference(scores, references, rng, num_bootstrap=args.bootstrap)
    place = screen.gene_places()
    members = genes_in_amplicons(place, amplicons(screen.segments))
    ranks = amplicon_ranks(scores, members, essential | depmap | set(DRIVERS))
    card = scorecard(scores, separation, references["BAGEL"], place["copy_number"], ranks, DRIVERS)
    card = card.join(method_costs(runs))
    card.to_csv(args.out / "methods.csv")
    ranks.to_csv(args.out / "amplicon_ranks.csv", index=False)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(card.round({"seconds": 1, "peak_mb": 0}).to_string())
        if not ranks.empty:
            wide = ranks.pivot(index="method", columns="amplicon", values="median_percentile")
            print(wide.round(2))
    return card


if __name__ == "__main__":
    main()
