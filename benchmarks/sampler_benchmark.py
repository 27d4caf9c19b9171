"""Fit each chapter's recommended model with nutpie, PyMC's NUTS and numpyro.

    .venv/bin/python benchmarks/sampler_benchmark.py   # every model, 3 x 2 chains x (1000 + 1000)
    .venv/bin/python benchmarks/sampler_benchmark.py --models m1 m2 --chains 4 --repeats 5
    .venv/bin/python benchmarks/sampler_benchmark.py --out /tmp/bench.csv

Writes one CSV row per fit and repeat (compile, sampling and total seconds,
divergences, max r-hat, lowest bulk ESS, ESS per second of sampling and of
the whole call) and prints the median and range per model and engine. Same
draws, warm-up, chains, cores, target_accept and seeds for every engine. Run
it on an otherwise idle machine: the figures are seconds. All nine models
take far longer than the book's three (PyMC's NUTS alone took 1.5 and 2.6
minutes for one fit of m6 and m6corr when last measured, on two cores).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crispr_models.checks.benchmark import run_benchmark, summarise_benchmark
from crispr_models.core.registry import RECOMMENDED
from crispr_models.core.settings import SAMPLERS

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "sampler_benchmark.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(RECOMMENDED), choices=list(RECOMMENDED))
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=list(SAMPLERS))
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=103, help="repeat r uses seed + r")
    parser.add_argument("--repeats", type=int, default=3, help="fits per model and engine")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"CSV path ({DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        table = run_benchmark(
            args.models,
            args.samplers,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=args.seed,
            repeats=args.repeats,
        )
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    columns = ["chapter", "sampler", "divergences", "max_r_hat"] + [
        f"{measure}_{stat}"
        for measure in ("compile_seconds", "sampling_seconds", "ess_per_second_sampling")
        for stat in ("median", "low", "high")
    ]
    print(summarise_benchmark(table)[columns].round(2).to_string(index=False))
    print(
        f"\n{table.attrs['platform']}, {table.attrs['cpus']} cpus, "
        f"{table.attrs['jax_devices']} JAX devices; every repeat written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
