"""What PyTensor's on-disk cache saves of nutpie's compile time.

For each chapter's recommended model, compiles it with nutpie in a fresh
Python process twice: first against an empty PyTensor cache directory, then
again against the one the first process filled. Prints the seconds of each
and writes ``benchmarks/results/compile_cache.csv``.

    .venv/bin/python benchmarks/compile_cache.py [--models m1 m6] [--repeats 3]

PyTensor 3 compiles with numba and caches what it can under
``<base_compiledir>/numba`` (``~/.pytensor`` unless ``PYTENSOR_FLAGS`` says
otherwise). The book and the tests use that default location, which outlives
any one run and is not a notebook input.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from crispr_models.core.registry import RECOMMENDED

#: Run in the child: build the model, then time nutpie's compilation alone.
CHILD = """
import sys, time
from crispr_models.core.registry import recommended_model
model = recommended_model(sys.argv[1]).model()
import nutpie
start = time.perf_counter()
nutpie.compile_pymc_model(model)
print(time.perf_counter() - start)
"""


def compile_seconds(chapter: str, cache_dir: Path) -> float:
    """nutpie's compile of ``chapter``'s model in a new process using ``cache_dir``."""
    environment = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cache_dir}"}
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, chapter],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(RECOMMENDED), choices=RECOMMENDED)
    parser.add_argument("--repeats", type=int, default=1, help="empty-cache trials per model")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/compile_cache.csv"))
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be a positive integer, got {args.repeats}")
    rows = []
    for chapter in args.models:
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory(prefix="pytensor-cache-") as cache:
                first = compile_seconds(chapter, Path(cache))
                second = compile_seconds(chapter, Path(cache))
            rows.append(
                {
                    "model": chapter,
                    "repeat": repeat,
                    "first_process_seconds": round(first, 2),
                    "second_process_seconds": round(second, 2),
                }
            )
            print(f"{chapter}: first process {first:.2f} s, second {second:.2f} s", flush=True)
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(table.groupby("model", sort=False).median(numeric_only=True).drop(columns="repeat"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
