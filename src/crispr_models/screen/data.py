"""A real CRISPR screen from files: read counts, the library, copy number.

The shapes are those of Sanger's CRISPY example screen (Project Score,
Yusa v1.1 library), and of a user's own screen written the same way:

- **counts**: a CSV whose first column is the guide id and whose other
  columns are samples, one of them the plasmid; one row per guide,
  non-negative integer counts.
- **library**: a CSV (or ``.csv.gz``) with columns ``sgRNA_ID``, ``Gene``,
  ``chr``, ``start`` and ``end``.
- **copy-number segments** (optional): a CSV with columns ``Chr``,
  ``Start``, ``End`` and ``copy_number``; segments must not overlap.

Every loader refuses bad input before any model sees it, with a message that
names the file and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

LIBRARY_COLUMNS = ("sgRNA_ID", "Gene", "chr", "start", "end")
SEGMENT_COLUMNS = ("Chr", "Start", "End", "copy_number")
#: Chromosome names after :func:`chromosome_name`.
CHROMOSOMES = tuple([str(i) for i in range(1, 23)] + ["X", "Y"])


class ScreenDataError(ValueError):
    """A screen file the book cannot use, and why."""


def _read_csv(path: str | Path, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise ScreenDataError(f"{what} file {path} does not exist")
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ScreenDataError(f"{what} file {path} is not a readable CSV: {error}") from None
    if table.empty:
        raise ScreenDataError(f"{what} file {path} has no rows")
    return table


def _require_columns(table: pd.DataFrame, columns: tuple[str, ...], path, what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ScreenDataError(
            f"{what} file {path} lacks the columns {', '.join(missing)} "
            f"(has {', '.join(map(str, table.columns))})"
        )


def chromosome_name(value: object) -> str:
    """'chr1', '1' and 1 are all '1'; 'chrX' is 'X'."""
    name = str(value).strip().removesuffix(".0")
    name = name[3:] if name.lower().startswith("chr") else name
    return name.upper() if name.lower() in ("x", "y") else name


def load_counts(path: str | Path, plasmid: str) -> pd.DataFrame:
    """Read counts indexed by guide id, one integer column per sample.

    Refuses: no rows, no ``plasmid`` column, duplicate guide ids, missing,
    negative or non-integer counts.
    """
    table = _read_csv(path, "counts")
    table = table.set_index(table.columns[0])
    table.index = table.index.astype(str)
    table.index.name = "guide"
    if plasmid not in table.columns:
        raise ScreenDataError(
            f"counts file {path} has no plasmid column {plasmid!r} "
            f"(samples: {', '.join(map(str, table.columns))})"
        )
    duplicated = table.index[table.index.duplicated()].unique()
    if len(duplicated):
        raise ScreenDataError(
            f"counts file {path} repeats {len(duplicated)} guide ids, e.g. {duplicated[0]!r}"
        )
    values = table.apply(pd.to_numeric, errors="coerce")
    for column in values.columns:
        bad = values[column].isna() | (values[column] < 0) | (values[column] % 1 != 0)
        if bad.any():
            guide = values.index[bad.to_numpy()][0]
            value = table.loc[guide, column]
            value = value.item() if isinstance(value, np.generic) else value
            raise ScreenDataError(
                f"counts file {path}: column {column!r} holds {int(bad.sum())} values that are "
                f"not non-negative integers, e.g. {value!r} for guide {guide!r}"
            )
    return values.astype(np.int64)


def load_library(path: str | Path) -> pd.DataFrame:
    """Read the library, indexed by guide id, chromosomes as in :data:`CHROMOSOMES`."""
    table = _read_csv(path, "library")
    _require_columns(table, LIBRARY_COLUMNS, path, "library")
    table = table.drop_duplicates("sgRNA_ID").set_index("sgRNA_ID")
    table.index = table.index.astype(str)
    table.index.name = "guide"
    table["chr"] = table["chr"].map(chromosome_name)
    return table


def check_guides_in_library(counts: pd.DataFrame, library: pd.DataFrame, path) -> None:
    """Every counted guide must be in the library."""
    missing = counts.index.difference(library.index)
    if len(missing):
        raise ScreenDataError(
            f"{len(missing)} guides of the counts are not in the library {path}, "
            f"e.g. {missing[0]!r}"
        )


def load_segments(path: str | Path) -> pd.DataFrame:
    """Read copy-number segments: known chromosomes, ``Start <= End``,
    non-negative copy numbers and no overlaps within a chromosome."""
    table = _read_csv(path, "copy-number")
    _require_columns(table, SEGMENT_COLUMNS, path, "copy-number")
    table = table.assign(Chr=table["Chr"].map(chromosome_name))
    unknown = sorted(set(table["Chr"]) - set(CHROMOSOMES))
    if unknown:
        raise ScreenDataError(
            f"copy-number file {path} names unknown chromosomes {', '.join(unknown)} "
            f"(known: 1-22, X, Y, with or without 'chr')"
        )
    if (table["Start"] > table["End"]).any():
        row = table.index[(table["Start"] > table["End"]).to_numpy()][0]
        raise ScreenDataError(f"copy-number file {path}: segment {row} starts after it ends")
    if (table["copy_number"] < 0).any():
        raise ScreenDataError(f"copy-number file {path} holds negative copy numbers")
    table = table.sort_values(["Chr", "Start"], ignore_index=True)
    for chromosome, segments in table.groupby("Chr", sort=False):
        overlap = segments["Start"].to_numpy()[1:] <= segments["End"].to_numpy()[:-1]
        if overlap.any():
            first = segments.iloc[int(np.argmax(overlap))]
            raise ScreenDataError(
                f"copy-number file {path}: segments overlap on chromosome {chromosome} "
                f"near {int(first['Start'])}-{int(first['End'])}"
            )
    return table


def guide_copy_number(library: pd.DataFrame, segments: pd.DataFrame) -> pd.Series:
    """Each guide's copy number: that of the segment holding its cut site
    (the middle of ``start`` and ``end``); NaN where no segment does."""
    site = (library["start"] + library["end"]) / 2
    copy_number = pd.Series(np.nan, index=library.index, name="copy_number")
    for chromosome, segs in segments.groupby("Chr", sort=False):
        on = (library["chr"] == chromosome).to_numpy()
        positions = site.to_numpy()[on]
        index = np.searchsorted(segs["Start"].to_numpy(), positions, side="right") - 1
        inside = (index >= 0) & (positions <= segs["End"].to_numpy()[np.clip(index, 0, None)])
        values = np.where(inside, segs["copy_number"].to_numpy()[np.clip(index, 0, None)], np.nan)
        copy_number.iloc[np.flatnonzero(on)] = values
    return copy_number


# --- the example screen shipped with CRISPY, and a whole screen in one table ---

#: CRISPY's example screen (Project Score, AU565, Yusa v1.1), inside the
#: installed ``cy`` distribution. Its package ``crispy`` is never imported:
#: importing it loads seaborn and restyles every plot.
CRISPY_FILES = {
    "counts": "crispy/data/example_rawcounts.csv",
    "copy_number": "crispy/data/example_copynumber.csv",
    "library": "crispy/data/crispr_libs/Yusa_v1.1.csv.gz",
    "essential": "crispy/data/gene_sets/curated_BAGEL_essential.csv",
    "non_essential": "crispy/data/gene_sets/curated_BAGEL_nonEssential.csv",
    # DepMap's common essentials (Avana 18Q4), "SYMBOL (Entrez id)" per line
    "depmap_essential": "crispy/data/gene_sets/pan_core_essential_broad_depmap18Q4.txt",
}
CRISPY_PLASMID = "ERS717283"


def crispy_file(name: str) -> Path:
    """The path of one of :data:`CRISPY_FILES` in the installed ``cy``."""
    from importlib.metadata import PackageNotFoundError, distribution

    if name not in CRISPY_FILES:
        raise ValueError(f"name must be one of {', '.join(CRISPY_FILES)}, got {name!r}")
    try:
        path = Path(distribution("cy").locate_file(CRISPY_FILES[name]))
    except PackageNotFoundError:
        raise ScreenDataError(
            "the example screen comes with the 'cy' package (CRISPY): pip install cy"
        ) from None
    if not path.is_file():
        raise ScreenDataError(f"the installed 'cy' lacks {CRISPY_FILES[name]}")
    return path


def load_gene_set(path: str | Path) -> frozenset[str]:
    """Gene symbols from a CSV with a ``gene`` column (BAGEL's reference sets,
    DepMap's common essentials); a symbol written ``"AAAS (8086)"`` with its
    Entrez id is read as ``"AAAS"``."""
    table = _read_csv(path, "gene-set")
    _require_columns(table, ("gene",), path, "gene-set")
    symbols = table["gene"].dropna().astype(str).str.replace(r"\s*\(\d+\)$", "", regex=True)
    return frozenset(symbols.str.strip())


def amplicons(
    segments: pd.DataFrame | None, *, min_copies: float = 8, merge_distance: float = 5e6
) -> pd.DataFrame:
    """The focal amplicons of a line: on each chromosome, runs of segments
    at ``min_copies`` or more copies, merged when less than
    ``merge_distance`` bases apart. One row each: ``amplicon`` (a name,
    ``chr17:37.3-39.5 Mb``), ``chr``, ``start``, ``end``, ``max_copies``;
    none without ``segments``."""
    rows = []
    if segments is None:
        segments = pd.DataFrame(columns=["Chr", "Start", "End", "copy_number"])
    high = segments[segments["copy_number"] >= min_copies].sort_values(["Chr", "Start"])
    for chromosome, group in high.groupby("Chr", sort=False):
        current = None
        for segment in group.itertuples():
            if current is not None and segment.Start - current["end"] < merge_distance:
                current["end"] = max(current["end"], segment.End)
                current["max_copies"] = max(current["max_copies"], segment.copy_number)
                continue
            if current is not None:
                rows.append(current)
            current = {
                "chr": chromosome,
                "start": segment.Start,
                "end": segment.End,
                "max_copies": segment.copy_number,
            }
        rows.append(current)
    table = pd.DataFrame(rows, columns=["chr", "start", "end", "max_copies"])
    names = [f"chr{r.chr}:{r.start / 1e6:.1f}-{r.end / 1e6:.1f} Mb" for r in table.itertuples()]
    return table.assign(amplicon=names)[["amplicon", "chr", "start", "end", "max_copies"]]


@dataclass(frozen=True)
class Screen:
    """One screen, one row per usable guide.

    ``guides`` holds ``gene``, ``chr``, ``position`` (the cut site),
    ``copy_number``, the ``plasmid`` count and one count column per
    replicate (``replicates`` names them). ``library_sizes`` are each
    sample's total reads before any guide was dropped; ``dropped`` says how
    many guides each filter removed, in order.
    """

    guides: pd.DataFrame
    replicates: tuple[str, ...]
    library_sizes: pd.Series
    dropped: dict[str, int]
    #: The copy-number segments (:func:`load_segments`), if the screen has them.
    segments: pd.DataFrame | None = None

    @property
    def genes(self) -> pd.Index:
        return pd.Index(self.guides["gene"].unique(), name="gene")

    def counts(self) -> np.ndarray:
        """Replicate counts, guides x replicates."""
        return self.guides[list(self.replicates)].to_numpy()

    def expected_log_counts(self) -> np.ndarray:
        """Each guide's log count in each replicate if nothing changed its
        abundance since the plasmid: its plasmid share of the replicate's
        library. The count model's offset."""
        share = self.guides["plasmid"].to_numpy() / self.library_sizes["plasmid"]
        sizes = self.library_sizes[list(self.replicates)].to_numpy()
        return np.log(share)[:, None] + np.log(sizes)[None, :]

    def gene_places(self) -> pd.DataFrame:
        """One row per gene: its chromosome, and the median position and copy
        number of its guides."""
        return self.guides.groupby("gene").agg(
            chr=("chr", "first"),
            position=("position", "median"),
            copy_number=("copy_number", "median"),
        )

    def restrict_to_genes(self, genes: object) -> Screen:
        """The same screen with only these genes' guides."""
        keep = self.guides["gene"].isin(pd.Index(genes))
        return replace(self, guides=self.guides[keep.to_numpy()])


def assemble_screen(
    counts: pd.DataFrame,
    plasmid: str,
    library: pd.DataFrame,
    segments: pd.DataFrame | None = None,
    min_plasmid_reads: int = 30,
) -> Screen:
    """Join counts, library and copy number into a :class:`Screen`.

    Guides are dropped, and counted in ``Screen.dropped``, when the library
    names no gene for them, when the plasmid has fewer than
    ``min_plasmid_reads`` reads (their fold changes are noise; Project Score
    uses 30), or, given ``segments``, when no segment holds their cut site.
    """
    if plasmid not in counts.columns:
        raise ScreenDataError(f"the counts have no plasmid column {plasmid!r}")
    replicates = tuple(c for c in counts.columns if c != plasmid)
    if not replicates:
        raise ScreenDataError("the counts hold the plasmid only: no replicate to analyse")
    library = library.loc[counts.index]
    guides = pd.DataFrame(
        {
            "gene": library["Gene"].astype("string"),
            "chr": library["chr"],
            "position": (library["start"] + library["end"]) / 2,
            "copy_number": guide_copy_number(library, segments) if segments is not None else 2.0,
        }
    ).join(counts.rename(columns={plasmid: "plasmid"}))
    dropped = {}
    for reason, usable in (
        ("no gene in the library", lambda g: g["gene"].notna() & ~g["gene"].isin(["nan", ""])),
        (
            f"fewer than {min_plasmid_reads} plasmid reads",
            lambda g: g["plasmid"] >= min_plasmid_reads,
        ),
        ("no copy-number segment", lambda g: g["copy_number"].notna()),
    ):
        keep = usable(guides).to_numpy()
        dropped[reason] = int((~keep).sum())
        guides = guides[keep]
    if guides.empty:
        raise ScreenDataError(f"no guide is left after dropping: {dropped}")
    sizes = counts.sum().rename({plasmid: "plasmid"})
    return Screen(guides.astype({"gene": str}), replicates, sizes, dropped, segments)


def load_screen(
    counts_path: str | Path,
    plasmid: str,
    library_path: str | Path,
    segments_path: str | Path | None = None,
    min_plasmid_reads: int = 30,
) -> Screen:
    """A screen from its files: the shapes are in this module's docstring."""
    counts = load_counts(counts_path, plasmid)
    library = load_library(library_path)
    check_guides_in_library(counts, library, library_path)
    segments = load_segments(segments_path) if segments_path is not None else None
    return assemble_screen(counts, plasmid, library, segments, min_plasmid_reads)


def ploidy(segments: pd.DataFrame) -> float:
    """The line's ploidy: its copy number averaged over the genome, each
    segment weighted by its length (as CRISPY computes it)."""
    length = (segments["End"] - segments["Start"]).to_numpy(float)
    return float(np.sum(length * segments["copy_number"].to_numpy(float)) / np.sum(length))


def load_screen_files(
    counts_file: str,
    plasmid: str,
    library_file: str,
    segments_file: str = "",
    min_plasmid_reads: int = 30,
) -> Screen:
    """A screen from a chapter's file parameters: ``counts_file`` empty means
    CRISPY's AU565 example (:func:`load_crispy_screen`; the other files must
    then be empty too), ``segments_file`` empty means no copy number."""
    if not counts_file:
        given = {"plasmid": plasmid, "library_file": library_file, "segments_file": segments_file}
        named = [name for name, value in given.items() if value]
        if named:
            raise ScreenDataError(
                f"{', '.join(named)} given without counts_file: give counts_file, plasmid and "
                "library_file (and optionally segments_file), or none of them for the example"
            )
        return load_crispy_screen(min_plasmid_reads)
    if not plasmid or not library_file:
        raise ScreenDataError(
            f"counts_file {counts_file} needs plasmid (its plasmid column) and library_file"
        )
    return load_screen(counts_file, plasmid, library_file, segments_file or None, min_plasmid_reads)


def load_reference_set(path: str, example: str) -> frozenset[str]:
    """A reference gene set from ``path``, or, when it is empty, the
    installed ``cy``'s file ``example`` (a name of :data:`CRISPY_FILES`)."""
    return load_gene_set(path or crispy_file(example))


def load_crispy_screen(min_plasmid_reads: int = 30) -> Screen:
    """CRISPY's example: the breast cancer line AU565 in Project Score."""
    return load_screen(
        crispy_file("counts"),
        CRISPY_PLASMID,
        crispy_file("library"),
        crispy_file("copy_number"),
        min_plasmid_reads,
    )


def log_fold_changes(screen: Screen, pseudocount: float = 0.5) -> pd.Series:
    """Each guide's log2 fold change against the plasmid, reads per million
    with ``pseudocount``, averaged over the replicates."""
    sizes = screen.library_sizes
    plasmid = np.log2((screen.guides["plasmid"] + pseudocount) / sizes["plasmid"] * 1e6)
    per_replicate = [
        np.log2((screen.guides[r] + pseudocount) / sizes[r] * 1e6) - plasmid
        for r in screen.replicates
    ]
    return pd.concat(per_replicate, axis=1).mean(axis=1).rename("log2_fold_change")


def gene_median_log_fold_change(screen: Screen) -> pd.Series:
    """The naive gene score: the median of its guides' log2 fold changes."""
    return log_fold_changes(screen).groupby(screen.guides["gene"]).median()
