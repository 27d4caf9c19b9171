"""The field's tools on the book's screen, each in its own process.

- **MAGeCK2** (``mageck2`` on PyPI) ``test``: robust rank aggregation of the
  guides' depletion (RRA), and the same with ``--cnv-norm``, its piecewise
  linear correction of the guides' scores for copy number relative to the
  line's ploidy (:func:`mageck_rra`).
- **CRISPY** (``cy`` on PyPI) ``Crispy.correct``: a Gaussian process of the
  segments' mean fold change on their copy-number ratio, subtracted from
  every guide (:func:`crispy_correction`).

Both get the screen's own guides after its filters (the same guides the
count model fits) and give a score per gene, lower meaning more depleted,
for :mod:`crispr_models.screen.scoring`. Each runs as a child process whose
wall time and peak resident memory are measured: CRISPY's
package restyles matplotlib when imported, and MAGeCK2 is a command-line
tool that calls its own compiled RRA program. They come with the project's
``peers`` extra (``pip install -e ".[peers]"``, which ``make book`` and
``make test`` install); CRISPY needs BEDTools' ``bedtools`` program
(Debian's ``bedtools``), which they install like Graphviz.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from crispr_models.screen.data import (
    Screen,
    gene_median_log_fold_change,
    log_fold_changes,
    ploidy,
)

#: What the count model is compared with, by the name the tables show.
NAIVE, MAGECK_RRA, MAGECK_RRA_CNV, CRISPY = (
    "naive median",
    "MAGeCK2 RRA",
    "MAGeCK2 RRA --cnv-norm",
    "CRISPY",
)
#: The slow ones, run by ``benchmarks/peer_benchmark.py`` (``make peers``),
#: not in the book build.
MAGECK_MLE, MAGECK_MLE_CNV, CHRONOS = "MAGeCK2 MLE", "MAGeCK2 MLE --cnv-norm", "Chronos"
#: The rounds of permutation the book's RRA runs (MAGeCK's default is 100):
#: RRA's scores, which are ranked here, do not depend on them, only its
#: p-values, which are not used; on AU565 10 rounds take 13 s against 53 s,
#: with every gene's score and rank the same. ``make peers`` runs the default.
BOOK_RRA_PERMUTATIONS = 10
#: How often a tool's memory is sampled (seconds).
MEMORY_SAMPLE_SECONDS = 0.05
#: The smallest copy-number ratio handed to MAGeCK2 (its file holds log2
#: ratios; a homozygous deletion would be minus infinity).
_MIN_RATIO = 0.01


class PeerToolError(RuntimeError):
    """A peer tool that is missing or failed, with what it printed."""


@dataclass(frozen=True)
class PeerRun:
    """One tool's gene scores (lower: more depleted), its wall time and the
    peak resident memory of its process (MB)."""

    method: str
    scores: pd.Series
    seconds: float
    peak_mb: float


def _program(name: str) -> str:
    """A command installed beside this Python (a venv's ``bin``), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise PeerToolError(
            f"{name} is not installed: pip install -e '.[peers]' (make book installs it), "
            "or run the screen chapter with -p peers false"
        )
    return found


def _run_measured(command: list[str], workdir: Path) -> tuple[float, float]:
    """Run ``command`` in ``workdir``: its wall seconds and its peak memory
    (MB), the largest resident memory of it and its children together,
    sampled every :data:`MEMORY_SAMPLE_SECONDS` (the kernel's ``ru_maxrss``
    of a child counts the parent's memory at the fork). Fails naming the
    command and the end of its output."""
    log = workdir / f"{Path(command[0]).name}.log"
    # the venv's bin first: MAGeCK2 calls its RRA program by name
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["MPLBACKEND"] = "Agg"
    # this package, for a child run by another environment's Python
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    peak = 0
    start = time.perf_counter()
    with open(log, "w") as output:
        process = psutil.Popen(
            command, cwd=workdir, stdout=output, stderr=subprocess.STDOUT, env=env
        )
        while process.poll() is None:
            peak = max(peak, _tree_memory(process))
            time.sleep(MEMORY_SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        tail = log.read_text()[-2000:]
        raise PeerToolError(f"{' '.join(command)} failed ({process.returncode}):\n{tail}")
    return seconds, peak / 2**20


def _tree_memory(process: psutil.Process) -> int:
    """Resident bytes of a process and its children (0 for those gone)."""
    total = 0
    try:
        tree = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return total


def _mageck_inputs(screen: Screen, workdir: Path, copy_number: bool) -> list[str]:
    """Write MAGeCK2's count table (and, with ``copy_number``, its copy-number
    file: each gene's log2 copy number relative to the line's ploidy) into
    ``workdir``; the arguments that name the second."""
    workdir.mkdir(parents=True, exist_ok=True)
    table = screen.guides[["gene", "plasmid", *screen.replicates]].rename_axis("sgRNA")
    table.to_csv(workdir / "counts.tsv", sep="\t")
    if not copy_number:
        return []
    if screen.segments is None:
        raise ValueError("copy_number needs a screen with copy-number segments")
    copy_number = screen.gene_places()["copy_number"]
    ratio = (copy_number / ploidy(screen.segments)).clip(lower=_MIN_RATIO)
    cnv = pd.DataFrame({"SYMBOL": ratio.index, "LINE": np.log2(ratio.to_numpy())})
    cnv.to_csv(workdir / "copy_number.tsv", sep="\t", index=False)
    return ["--cnv-norm", "copy_number.tsv", "--cell-line", "LINE"]


def mageck_rra(
    screen: Screen,
    workdir: str | Path,
    *,
    copy_number: bool = False,
    permutations: int | None = None,
) -> PeerRun:
    """MAGeCK2's ``test`` (RRA, median normalisation) of the replicates
    against the plasmid; with ``copy_number``, its ``--cnv-norm`` given each
    gene's log2 copy number relative to the line's ploidy (which needs the
    screen's segments); with ``permutations``, RRA's rounds of permutation
    (MAGeCK's default otherwise). The score is RRA's negative-selection
    score."""
    workdir = Path(workdir)
    cnv = _mageck_inputs(screen, workdir, copy_number)
    replicates = ",".join(screen.replicates)
    command = [_program("mageck2"), "test", "-k", "counts.tsv", "-t", replicates]
    command += ["-c", "plasmid", "-n", "rra", *cnv]
    if permutations is not None:
        command += ["--additional-rra-parameters", f"--permutation {permutations}"]
    seconds, peak = _run_measured(command, workdir)
    genes = pd.read_csv(workdir / "rra.gene_summary.txt", sep="\t", index_col="id")
    scores = genes["neg|score"].rename("score").rename_axis("gene")
    return PeerRun(MAGECK_RRA_CNV if copy_number else MAGECK_RRA, scores, seconds, peak)


def mageck_mle(screen: Screen, workdir: str | Path, *, copy_number: bool = False) -> PeerRun:
    """MAGeCK2's ``mle``: a negative-binomial generalised linear model per
    gene with guide efficiencies, the replicates against the plasmid; the
    score is the line's beta (its log fold change, lower: more depleted).
    Without permutations (``--permutation-round 0``, its p-values unused
    here), which by default take hours and leave the betas as they are."""
    workdir = Path(workdir)
    cnv = _mageck_inputs(screen, workdir, copy_number)
    samples = ["plasmid", *screen.replicates]
    design = pd.DataFrame(
        {"Samples": samples, "baseline": 1, "LINE": [0] + [1] * len(screen.replicates)}
    )
    design.to_csv(workdir / "design.tsv", sep="\t", index=False)
    command = [_program("mageck2"), "mle", "-k", "counts.tsv", "-d", "design.tsv", "-n", "mle"]
    command += ["--permutation-round", "0", "--no-permutation-by-group", *cnv]
    seconds, peak = _run_measured(command, workdir)
    genes = pd.read_csv(workdir / "mle.gene_summary.txt", sep="\t", index_col="Gene")
    scores = genes["LINE|beta"].rename("score").rename_axis("gene")
    return PeerRun(MAGECK_MLE_CNV if copy_number else MAGECK_MLE, scores, seconds, peak)


def chronos_gene_effect(
    screen: Screen,
    workdir: str | Path,
    *,
    days: float = 14.0,
    excess_variance: float = 0.1,
    python: str | Path = sys.executable,
) -> PeerRun:
    """Chronos (``crispr-chronos``, TensorFlow) on one line, in a child
    process run by ``python`` (an environment with ``crispr-chronos`` and
    ``psutil``, ``make peers``'s ``.venv-peers``): its gene effect, the
    replicates ``days`` after infection against the plasmid. Without
    negative-control guides Chronos cannot estimate its NB2 overdispersion,
    so it is given (``excess_variance``); its copy-number correction needs
    three or more lines, so it is not used."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    screen.guides[["gene", "plasmid", *screen.replicates]].to_csv(workdir / "counts.csv")
    # absolute, since the child runs in workdir; not resolved, which would
    # follow a virtual environment's link out of it
    command = [os.path.abspath(python), "-m", "crispr_models.screen.peers", "chronos"]
    command += [str(days), str(excess_variance)]
    seconds, peak = _run_measured(command, workdir)
    scores = pd.read_csv(workdir / "gene_effect.csv", index_col=0).iloc[:, 0]
    return PeerRun(CHRONOS, scores.rename("score").rename_axis("gene"), seconds, peak)


def crispy_correction(screen: Screen, workdir: str | Path) -> PeerRun:
    """CRISPY's correction of the guides' mean log2 fold changes (the book's
    :func:`~crispr_models.screen.data.log_fold_changes`, as CRISPY computes
    them) for copy number, in a child process; the gene score is the mean of
    its guides' corrected fold changes."""
    if screen.segments is None:
        raise ValueError("CRISPY needs a screen with copy-number segments")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    site = screen.guides["position"].round().astype(int)
    guides = pd.DataFrame(
        {
            "Chr": "chr" + screen.guides["chr"],
            "Start": site,
            "End": site + 1,
            "Approved_Symbol": screen.guides["gene"],
            "fold_change": log_fold_changes(screen),
        }
    )
    guides.to_csv(workdir / "guides.csv")
    segments = screen.segments.assign(Chr="chr" + screen.segments["Chr"])
    segments.to_csv(workdir / "segments.csv", index=False)
    command = [sys.executable, "-m", "crispr_models.screen.peers", "crispy"]
    seconds, peak = _run_measured(command, workdir)
    corrected = pd.read_csv(workdir / "corrected.csv")
    scores = corrected.groupby("gene")["corrected"].mean().rename("score")
    return PeerRun(CRISPY, scores, seconds, peak)


def naive_median(screen: Screen) -> PeerRun:
    """The naive score as a method: each gene's median guide log2 fold
    change (:func:`~crispr_models.screen.data.gene_median_log_fold_change`),
    timed in this process (its memory is not measured)."""
    start = time.perf_counter()
    scores = gene_median_log_fold_change(screen)
    return PeerRun(NAIVE, scores, time.perf_counter() - start, float("nan"))


def method_costs(runs: list[PeerRun]) -> pd.DataFrame:
    """Each method's wall seconds and peak memory (MB), one row each."""
    return pd.DataFrame(
        [{"method": r.method, "seconds": r.seconds, "peak_mb": r.peak_mb} for r in runs]
    ).set_index("method")


def run_peers(screen: Screen, artifacts_dir: str | Path = "") -> list[PeerRun]:
    """Every peer the screen allows, one after the other (so that each is
    timed alone): MAGeCK2's RRA (:data:`BOOK_RRA_PERMUTATIONS` rounds of
    permutation), and, given copy-number segments, RRA with ``--cnv-norm``
    and CRISPY. Their files go to ``artifacts_dir/peers`` (one folder
    each), or to a temporary folder when it is empty."""
    if artifacts_dir:
        workdir = Path(artifacts_dir) / "peers"
    else:
        workdir = Path(tempfile.mkdtemp(prefix="screen-peers-"))
    rounds = BOOK_RRA_PERMUTATIONS
    runs = [mageck_rra(screen, workdir / "mageck_rra", permutations=rounds)]
    if screen.segments is not None:
        cnv = mageck_rra(screen, workdir / "mageck_rra_cnv", copy_number=True, permutations=rounds)
        runs.append(cnv)
        runs.append(crispy_correction(screen, workdir / "crispy"))
    return runs


def _run_crispy_here() -> None:
    """The child process of :func:`crispy_correction`, in its folder."""
    import importlib.resources
    import types

    # cy 0.5.8 imports pkg_resources (gone from setuptools 81) for its data
    # folder only: resource_filename is all it calls
    shim = types.ModuleType("pkg_resources")
    shim.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)
    sys.modules.setdefault("pkg_resources", shim)
    from crispy.CopyNumberCorrection import Crispy, CrispyGaussian

    # scikit-learn >= 1.6 reads every __init__ argument back as an attribute
    # (get_params) and CrispyGaussian keeps two of them under other names
    CrispyGaussian.bed_df = None
    CrispyGaussian.copy_x_train = False
    guides = pd.read_csv("guides.csv", index_col=0)
    segments = pd.read_csv("segments.csv")
    crispy = Crispy(
        sgrna_fc=guides["fold_change"],
        library=guides[["Chr", "Start", "End", "Approved_Symbol"]],
        copy_number=segments,
    )
    corrected = crispy.correct()
    corrected[["sgRNA_ID", "gene", "fold_change", "gp_mean", "corrected"]].to_csv(
        "corrected.csv", index=False
    )


def _run_chronos_here(days: float, excess_variance: float) -> None:
    """The child process of :func:`chronos_gene_effect`, in its folder."""
    from chronos import Chronos

    table = pd.read_csv("counts.csv", index_col=0)
    samples = [c for c in table.columns if c != "gene"]
    readcounts = table[samples].T  # sequences x guides
    sequence_map = pd.DataFrame(
        {
            "sequence_ID": samples,
            "cell_line_name": ["pDNA" if s == "plasmid" else "LINE" for s in samples],
            "days": [0.0 if s == "plasmid" else days for s in samples],
            "pDNA_batch": "batch",
        }
    )
    guide_gene_map = pd.DataFrame({"sgrna": table.index, "gene": table["gene"]})
    # any name but "library", which Chronos 2.3.11's efficacy setter takes
    # for a column of its own saved tables
    model = Chronos(
        readcounts={"screen": readcounts},
        guide_gene_map={"screen": guide_gene_map},
        sequence_map={"screen": sequence_map},
        excess_variance=excess_variance,
    )
    model.train()
    model.gene_effect.loc["LINE"].rename("gene_effect").to_csv("gene_effect.csv")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["crispy"]:
            _run_crispy_here()
        case ["chronos", days, excess_variance]:
            _run_chronos_here(float(days), float(excess_variance))
        case _:
            raise SystemExit(
                "usage: python -m crispr_models.screen.peers crispy | chronos DAYS EXCESS_VARIANCE"
                " (in its folder)"
            )
