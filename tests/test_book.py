"""The book built from the quick runs: a page per notebook, figures, no errors."""

import re

import pytest
from bs4 import BeautifulSoup

from crispr_models.core.registry import CHAPTERS

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def html(book_html):
    return book_html


def _page(html, name):
    path = html / f"{name}.html"
    assert path.exists(), path
    return BeautifulSoup(path.read_text(), "html.parser"), path


#: Chapter titles of the pages that are not models of the series.
TITLES = {
    "ppc": "Predictive checks that can fail",
    "sbc": "Simulation-based calibration",
    "loo": "Model comparison by PSIS-LOO",
    "bench": "Sampler benchmark",
    "screen": "A real genome-wide screen",
}


@pytest.mark.parametrize(
    ("notebook_id", "min_figures"), [(c.id, c.figures) for c in CHAPTERS.values()]
)
def test_each_notebook_page_has_its_figures_and_no_errors(html, notebook_id, min_figures):
    soup, path = _page(html, f"book/generated/{notebook_id}")
    model_number = re.match(r"m(\d+)", notebook_id)
    title = f"Model {model_number[1]}" if model_number else TITLES[notebook_id]
    assert soup.find("h1").get_text().startswith(title)
    images = soup.select("div.cell_output img")
    assert len(images) >= min_figures
    for image in images:
        assert (path.parent / image["src"]).resolve().exists(), image["src"]
    assert not soup.select(".output.error, .output.traceback")
    assert "Traceback" not in soup.get_text()
    if model_number and notebook_id != "m6param":  # a chapter with one recommended fit
        assert "Convergence passed" in soup.get_text()


def test_pathological_variants_are_labelled(html):
    for notebook_id in ("m3", "m4", "m5", "m6global", "m7"):
        soup, _ = _page(html, f"book/generated/{notebook_id}")
        assert "Convergence FAILED (pathological: the sampler fails" in soup.get_text(), notebook_id


def test_intro_and_references_pages(html):
    # The page `crispr-models book` tells the reader to open leads to the intro.
    assert "book/intro.html" in (html / "index.html").read_text()
    intro_page, _ = _page(html, "book/intro")
    assert "How to rerun a chapter" in intro_page.get_text()
    references, _ = _page(html, "book/references")
    text = references.get_text()
    cited_works = ("Chronos", "Bayesian Workflow", "PyMC", "ArviZ", "nutpie", "CERES")
    for cited in (*cited_works, "Simulation-Based Calibration", "Pareto Smoothed"):
        assert cited.lower() in text.lower(), cited


def test_validation_part_lists_its_three_chapters(html):
    intro, _ = _page(html, "book/intro")
    navigation = intro.select_one("nav.bd-links") or intro
    text = navigation.get_text()
    assert "Validation" in text
    for title in TITLES.values():
        assert title in text, title


def test_the_api_page_documents_the_functions_the_chapters_link_to(html):
    api, _ = _page(html, "book/api")
    assert api.find(id="crispr_models.screen.genome.genome_wide_fit")
    assert api.find(id="crispr_models.series.models.multigene_rna_model")
    screen, _ = _page(html, "book/generated/screen")
    links = {a["href"] for a in screen.select("a.reference.internal") if a.get("href")}
    assert any(
        href.endswith("api.html#crispr_models.screen.genome.genome_wide_fit") for href in links
    )
