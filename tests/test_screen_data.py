"""Loading a real screen: tidy tables, and bad files refused with their name."""

import numpy as np
import pytest

from crispr_models.screen_data import (
    ScreenDataError,
    check_guides_in_library,
    chromosome_name,
    guide_copy_number,
    load_counts,
    load_library,
    load_segments,
)

COUNTS = "guide,R1,R2,plasmid\ng1,10,12,30\ng2,0,3,25\ng3,7,9,40\n"
LIBRARY = (
    "sgRNA_ID,Gene,chr,start,end\ng1,A,1,100,123\ng2,A,1,5000,5023\ng3,B,X,700,723\ng4,C,2,10,33\n"
)
SEGMENTS = "Chr,Start,End,copy_number\nchr1,1,1000,2\nchr1,1001,9000,5\nchrX,1,800,1\n"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_screen_loads_into_tidy_tables(tmp_path):
    counts = load_counts(_write(tmp_path, "c.csv", COUNTS), "plasmid")
    assert list(counts.columns) == ["R1", "R2", "plasmid"]
    assert counts.loc["g2", "R1"] == 0 and counts.dtypes.eq(np.int64).all()
    library = load_library(_write(tmp_path, "l.csv", LIBRARY))
    check_guides_in_library(counts, library, "l.csv")
    segments = load_segments(_write(tmp_path, "s.csv", SEGMENTS))
    copy_number = guide_copy_number(library, segments)
    assert copy_number["g1"] == 2 and copy_number["g2"] == 5 and copy_number["g3"] == 1
    assert np.isnan(copy_number["g4"])  # chromosome 2 has no segment


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("guide,R1,plasmid\n", "has no rows"),
        ("guide,R1,R2\ng1,1,2\n", "no plasmid column 'plasmid'"),
        ("guide,R1,plasmid\ng1,1,2\ng1,3,4\n", "repeats 1 guide ids, e.g. 'g1'"),
        ("guide,R1,plasmid\ng1,-1,2\n", "column 'R1' holds 1 values that are not non-negative"),
        ("guide,R1,plasmid\ng1,1.5,2\n", "not non-negative integers, e.g. 1.5"),
        ("guide,R1,plasmid\ng1,many,2\n", "e.g. 'many' for guide 'g1'"),
    ],
)
def test_bad_counts_are_refused_naming_the_file(tmp_path, text, message):
    path = _write(tmp_path, "counts.csv", text)
    with pytest.raises(ScreenDataError, match=message) as error:
        load_counts(path, "plasmid")
    assert "counts file" in str(error.value) and "counts.csv" in str(error.value)


def test_guides_missing_from_the_library_are_refused(tmp_path):
    counts = load_counts(_write(tmp_path, "c.csv", COUNTS + "g9,1,1,1\n"), "plasmid")
    library = load_library(_write(tmp_path, "l.csv", LIBRARY))
    with pytest.raises(ScreenDataError, match="1 guides of the counts are not in the library"):
        check_guides_in_library(counts, library, "l.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Chr,Start,End,copy_number\nchr1,1,100,2\nchr1,50,200,3\n", "overlap on chromosome 1"),
        ("Chr,Start,End,copy_number\nchr99,1,100,2\n", "unknown chromosomes 99"),
        ("Chr,Start,End,copy_number\nchr1,100,1,2\n", "starts after it ends"),
        ("Chr,Start,End,copy_number\nchr1,1,100,-1\n", "negative copy numbers"),
        ("Chr,Start,End\nchr1,1,100\n", "lacks the columns copy_number"),
    ],
)
def test_bad_segments_are_refused_naming_the_file(tmp_path, text, message):
    path = _write(tmp_path, "segments.csv", text)
    with pytest.raises(ScreenDataError, match=message) as error:
        load_segments(path)
    assert "segments.csv" in str(error.value)


def test_missing_or_unreadable_files_are_named(tmp_path):
    with pytest.raises(ScreenDataError, match="library file .*nope.csv does not exist"):
        load_library(tmp_path / "nope.csv")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x00garbage")
    with pytest.raises(ScreenDataError, match="binary.csv"):
        load_library(tmp_path / "binary.csv")


@pytest.mark.parametrize(("raw", "name"), [("chr1", "1"), (1, "1"), ("1.0", "1"), ("chrx", "X")])
def test_chromosome_names_are_normalised(raw, name):
    assert chromosome_name(raw) == name
