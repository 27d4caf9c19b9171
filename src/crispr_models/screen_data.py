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
