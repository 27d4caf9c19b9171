"""Loading a real screen: tidy tables, and bad files refused with their name."""

import numpy as np
import pytest

from crispr_models.screen.data import (
    ScreenDataError,
    check_guides_in_library,
    chromosome_name,
    crispy_file,
    gene_median_log_fold_change,
    guide_copy_number,
    load_counts,
    load_crispy_screen,
    load_gene_set,
    load_library,
    load_reference_set,
    load_screen,
    load_screen_files,
    load_segments,
    log_fold_changes,
    ploidy,
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


def _screen(tmp_path, counts=COUNTS, min_plasmid_reads=26):
    return load_screen(
        _write(tmp_path, "c.csv", counts),
        "plasmid",
        _write(tmp_path, "l.csv", LIBRARY),
        _write(tmp_path, "s.csv", SEGMENTS),
        min_plasmid_reads,
    )


def test_a_screen_joins_counts_library_and_copy_number_and_counts_what_it_drops(tmp_path):
    screen = _screen(tmp_path)
    # g2 has 25 plasmid reads, under 26: dropped and counted
    assert list(screen.guides.index) == ["g1", "g3"]
    assert screen.dropped == {
        "no gene in the library": 0,
        "fewer than 26 plasmid reads": 1,
        "no copy-number segment": 0,
    }
    assert screen.replicates == ("R1", "R2")
    # library sizes count every guide, dropped ones too
    assert screen.library_sizes.to_dict() == {"R1": 17, "R2": 24, "plasmid": 95}
    assert screen.guides.loc["g3", ["gene", "chr", "copy_number"]].tolist() == ["B", "X", 1.0]
    assert list(screen.genes) == ["A", "B"]
    assert list(screen.restrict_to_genes(["B"]).guides.index) == ["g3"]


def test_the_offset_is_the_plasmid_share_of_each_replicate(tmp_path):
    screen = _screen(tmp_path)
    expected = np.exp(screen.expected_log_counts())
    assert expected[0] == pytest.approx([17 * 30 / 95, 24 * 30 / 95])


def test_fold_changes_are_log2_reads_per_million_against_the_plasmid(tmp_path):
    screen = _screen(tmp_path)
    lfc = log_fold_changes(screen)
    r1 = np.log2(10.5 / 17) - np.log2(30.5 / 95)
    r2 = np.log2(12.5 / 24) - np.log2(30.5 / 95)
    assert lfc["g1"] == pytest.approx((r1 + r2) / 2)
    assert gene_median_log_fold_change(screen)["A"] == pytest.approx(lfc["g1"])


def test_a_screen_with_nothing_left_is_refused(tmp_path):
    with pytest.raises(ScreenDataError, match="no guide is left"):
        _screen(tmp_path, min_plasmid_reads=1000)


def test_gene_sets_need_a_gene_column(tmp_path):
    assert load_gene_set(_write(tmp_path, "g.csv", "gene\nA\nB\n")) == {"A", "B"}
    with pytest.raises(ScreenDataError, match="gene-set file .*g2.csv lacks the columns gene"):
        load_gene_set(_write(tmp_path, "g2.csv", "symbol\nA\n"))


def test_crispys_example_screen_loads_from_the_installed_package():
    """Offline: the files come with the 'cy' wheel, a dependency."""
    screen = load_crispy_screen()
    assert len(screen.guides) > 80_000 and screen.genes.size > 17_000
    assert screen.replicates == ("AU565_c903R2", "AU565_c903R3", "AU565_c903R1")
    assert screen.guides["copy_number"].between(0, 30).all()
    essential = load_gene_set(crispy_file("essential"))
    assert len(essential & set(screen.genes)) > 300
    with pytest.raises(ValueError, match="name must be one of counts"):
        crispy_file("plasmid")


def test_gene_symbols_lose_a_trailing_entrez_id(tmp_path):
    path = _write(tmp_path, "depmap.txt", "gene\nAAAS (8086)\nAAMP (14)\nB\n")
    assert load_gene_set(path) == {"AAAS", "AAMP", "B"}
    assert "RPL3" in load_gene_set(crispy_file("depmap_essential"))


def test_ploidy_is_the_copy_number_averaged_over_the_segments_lengths(tmp_path):
    segments = load_segments(_write(tmp_path, "s.csv", SEGMENTS))
    # lengths 999, 7999, 799 at 2, 5 and 1 copies
    assert ploidy(segments) == pytest.approx((999 * 2 + 7999 * 5 + 799) / (999 + 7999 + 799))
    assert ploidy(load_crispy_screen().segments) == pytest.approx(3.69, abs=0.01)


def test_a_screen_keeps_its_segments(tmp_path):
    screen = _screen(tmp_path)
    assert list(screen.segments["copy_number"]) == [2, 5, 1]
    assert screen.restrict_to_genes(["B"]).segments is screen.segments


def test_the_chapters_file_parameters_load_a_screen_or_the_example(tmp_path):
    counts, library = _write(tmp_path, "c.csv", COUNTS), _write(tmp_path, "l.csv", LIBRARY)
    screen = load_screen_files(str(counts), "plasmid", str(library), "", 26)
    assert list(screen.guides.index) == ["g1", "g3"] and screen.segments is None
    assert (screen.guides["copy_number"] == 2).all()
    with pytest.raises(ScreenDataError, match="plasmid, library_file given without counts_file"):
        load_screen_files("", "plasmid", str(library))
    with pytest.raises(ScreenDataError, match="needs plasmid .* and library_file"):
        load_screen_files(str(counts), "", str(library))
    assert load_reference_set("", "essential") == load_gene_set(crispy_file("essential"))
