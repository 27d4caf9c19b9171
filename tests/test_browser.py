"""The built book in a real browser: headless Chromium, served on localhost, offline.

Every page the navigation reaches is opened in Debian's ``chromium`` (driven
by Selenium through Debian's ``chromium-driver``; nothing is downloaded).
On each: no console errors, nothing fetched from another host, every image
loaded, every equation typeset by the MathJax shipped with the build. A
screenshot of each chapter goes to ``test-output/screenshots/`` for people to
look at (``CRISPR_MODELS_SCREENSHOTS`` moves it).
"""

from __future__ import annotations

import base64
import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag

import pytest
import yaml

from conftest import REPO_ROOT

pytestmark = pytest.mark.notebook

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
SCREENSHOT_DIR = Path(
    os.environ.get("CRISPR_MODELS_SCREENSHOTS", REPO_ROOT / "test-output" / "screenshots")
)
#: Headless, and quiet on a machine without a network: no background
#: connections to Google's services, each of which would log an error.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)
#: Long chapters are cut here (CSS pixels): tall captures exceed what
#: Chromium can paint in one image, and the top shows the model and figures.
SCREENSHOT_MAX_HEIGHT = 12000

#: Runs in the page: waits for MathJax and for every image, then reports.
PAGE_REPORT = """
const done = arguments[arguments.length - 1];
(async () => {
  if (document.readyState !== "complete") {
    await new Promise((resolve) => window.addEventListener("load", resolve, {once: true}));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const images = [...document.images];
  for (const image of images) { image.loading = "eager"; }
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
  const origin = window.location.origin;
  done({
    images: images.length,
    broken_images: images
      .filter((image) => !(image.complete && image.naturalWidth > 0))
      .map((image) => image.src.slice(0, 120)),
    math: document.querySelectorAll(".math").length,
    typeset: document.querySelectorAll("mjx-container").length,
    untypeset: [...document.querySelectorAll(".math")]
      .filter((element) => !element.querySelector("mjx-container"))
      .map((element) => element.textContent.slice(0, 80)),
    math_errors: document.querySelectorAll("mjx-merror").length,
    foreign: performance.getEntriesByType("resource")
      .map((entry) => entry.name)
      .filter((url) => !url.startsWith(origin) && !url.startsWith("data:")),
    navigation: [...document.querySelectorAll("nav.bd-links a.reference.internal")]
      .map((link) => link.href),
    title: document.title,
  });
})().catch((error) => done({script_error: String(error)}));
"""


def _toc_pages() -> list[str]:
    """Every page of the book, as ``book/generated/m1``, in book order."""
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def book_url(book_html):
    """The built book served on a free localhost port."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run does), or set "
            "CHROMIUM and CHROMEDRIVER to a Chromium and its matching driver"
        )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _screenshot(driver, path: Path) -> None:
    """The page from the top, as tall as it is (up to the cap)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {
        "x": 0,
        "y": 0,
        "width": size["width"],
        "height": min(size["height"], SCREENSHOT_MAX_HEIGHT),
        "scale": 1,
    }
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def _open(browser, url: str) -> tuple[dict, list[str]]:
    """Load ``url``; its report and the console errors it logged."""
    browser.get(url)
    report = browser.execute_async_script(PAGE_REPORT)
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    return report, errors


@pytest.fixture(scope="module")
def reports(browser, book_url):
    """Each page reached from the first page's navigation, opened and checked
    once: page -> (report, console errors)."""
    start = f"{book_url}/{_toc_pages()[0]}.html"
    to_visit, seen, found = [start], {start}, {}
    while to_visit:
        url = to_visit.pop(0)
        page = url.removeprefix(f"{book_url}/").removesuffix(".html")
        found[page] = _open(browser, url)
        report = found[page][0]
        if page != _toc_pages()[0]:
            _screenshot(browser, SCREENSHOT_DIR / f"{page.rsplit('/', 1)[-1]}.png")
        for link in report.get("navigation", []):
            target = urldefrag(link).url
            if target.startswith(book_url) and target not in seen:
                seen.add(target)
                to_visit.append(target)
    for extra in ("search", "genindex"):  # pages outside the navigation
        found[extra] = _open(browser, f"{book_url}/{extra}.html")
    return found


def test_the_navigation_reaches_every_chapter(reports):
    assert set(_toc_pages()) <= set(reports), set(_toc_pages()) - set(reports)


@pytest.mark.parametrize("page", [*_toc_pages(), "search", "genindex"])
def test_page_renders_cleanly_offline(reports, page):
    report, console_errors = reports[page]
    assert "script_error" not in report, report
    assert console_errors == []
    assert report["foreign"] == [], "fetched from another host: the book must read offline"
    assert report["broken_images"] == []
    assert report["untypeset"] == [] and report["math_errors"] == 0
    assert report["title"].strip()


@pytest.mark.parametrize("page", [p for p in _toc_pages() if p.startswith("book/generated/m")])
def test_model_chapters_show_figures_and_typeset_equations(reports, page):
    report, _ = reports[page]
    assert report["images"] > 0
    assert report["typeset"] > 0, "the model's equations"


def test_a_screenshot_of_each_chapter_is_saved(reports):
    for page in _toc_pages()[1:]:
        shot = SCREENSHOT_DIR / f"{page.rsplit('/', 1)[-1]}.png"
        assert shot.exists() and shot.stat().st_size > 10_000, shot
