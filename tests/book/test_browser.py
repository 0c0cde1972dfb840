"""The built book as a reader sees it: every page opened in headless Chromium, offline.

Runs after the book is built (``make test`` builds the committed outputs into
``_build/check/_build/html`` first; ``NTK_BOOK_HTML`` points elsewhere). The pages are served on
127.0.0.1 and every request to any other host is refused and reported. For each page: every
formula typeset by MathJax (no TeX error, no raw delimiters left in the visible text), every image
loaded, no line of code or output cut off, no JavaScript error, no failed or outside request; on chapter pages also the Colab launch
link, folded solutions, folded ``hide-input`` cells with the parameters cell visible, and a
screenshot under ``_build/screenshots/``.

Playwright's Python package drives the system Chromium (Debian's ``chromium``); nothing is
downloaded. Without a browser the test skips, unless ``NTK_REQUIRE_BROWSER=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("NTK_BOOK_HTML", ROOT / "_build" / "check" / "_build" / "html"))
SHOTS = ROOT / "_build" / "screenshots"
# the flags a sandboxed, offline machine needs (no background connections, no GPU, no sandbox as root)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
INSTALL_HINT = "install Debian's chromium (apt-get install chromium) or set NTK_CHROMIUM to a Chromium binary"

# TeX delimiters that MathJax would have consumed; found in visible text they mean unrendered math
RAW_TEX = r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$"

PAGE_REPORT_JS = """
async (rawTex) => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => { i.loading = 'eager'; return i.decode().catch(() => null); }));
  const mathNodes = [...document.querySelectorAll('span.math, div.math')];
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const re = new RegExp(rawTex);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement && n.parentElement.closest(skip)) continue;
    if (re.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 80));
  }
  return {
    mathjax: !!(window.MathJax && MathJax.version),
    mathNodes: mathNodes.length,
    untypeset: mathNodes.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
    typeset: document.querySelectorAll('mjx-container').length,
    texErrors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
    rawTex: raw,
    images: imgs.length,
    brokenImages: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    colab: [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map(a => a.href),
    clipped: [...document.querySelectorAll('div.highlight pre, div.cell_output pre')]
      .filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)
      .map(p => p.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 80)),
  };
}
"""


def find_chromium() -> str | None:
    candidates = [os.environ.get("NTK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]
    for c in filter(None, candidates):
        path = shutil.which(c) or (c if Path(c).is_file() else None)
        if path:
            return path
    return None


def unavailable(reason: str):
    if os.environ.get("NTK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; NTK_REQUIRE_BROWSER=1 makes this a failure ({INSTALL_HINT})")
    pytest.skip(f"{reason}: the browser test did not run ({INSTALL_HINT})")


def pages() -> list[str]:
    if not HTML.is_dir():
        return []
    found = []
    for p in sorted(HTML.rglob("*.html")):
        rel = p.relative_to(HTML).as_posix()
        if rel.split("/")[0] in ("_static", "_sources", "_images") or rel == "index.html":
            continue  # index.html is only a redirect to book/intro.html
        found.append(rel)
    return found


def chapter_pages() -> list[str]:
    return [p for p in pages() if p.startswith("notebooks/")]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports failures itself
        pass


@pytest.fixture(scope="module")
def server():
    if not (HTML / "book" / "intro.html").is_file():
        unavailable(f"no built book at {HTML} (make book-check builds it)")
    handler = functools.partial(_Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed")
    exe = find_chromium()
    if exe is None:
        unavailable("no Chromium found")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class PageVisit:
    """One page load with everything a reader's browser would have complained about."""

    def __init__(self, browser, server: str, rel: str):
        self.host = urlsplit(server).netloc
        self.outside, self.failed, self.console, self.errors = [], [], [], []
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", lambda r: self.failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
        self.page.goto(f"{server}/{rel}", wait_until="load")
        self.report = self.page.evaluate(PAGE_REPORT_JS, RAW_TEX)
        self.page.wait_for_load_state("networkidle")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == self.host:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def visits(browser, server):
    opened = {}
    yield lambda rel: opened.setdefault(rel, PageVisit(browser, server, rel))
    for v in opened.values():
        v.close()


def test_the_book_has_pages():
    if not HTML.is_dir():
        unavailable(f"no built book at {HTML} (make book-check builds it)")
    assert chapter_pages(), f"no chapter pages under {HTML}/notebooks"
    assert "book/execution.html" in pages()


@pytest.mark.parametrize("rel", pages())
def test_page_renders_offline(visits, rel):
    v = visits(rel)
    r = v.report
    assert not v.outside, f"requests to other hosts: {v.outside[:5]}"
    assert not v.failed, f"failed requests: {v.failed[:5]}"
    assert not v.errors, f"JavaScript errors: {v.errors[:3]}"
    assert not v.console, f"console errors: {v.console[:3]}"
    assert r["mathjax"], "MathJax did not load"
    assert not r["untypeset"], f"{len(r['untypeset'])} formulas not typeset, e.g. {r['untypeset'][:3]}"
    assert not r["texErrors"], f"TeX errors: {r['texErrors'][:3]}"
    assert not r["rawTex"], f"raw TeX in the visible text: {r['rawTex'][:3]}"
    assert not r["brokenImages"], f"{len(r['brokenImages'])} of {r['images']} images not loaded: {r['brokenImages'][:3]}"
    assert not r["clipped"], f"code or output lines cut off (scrolling sideways): {r['clipped'][:3]}"


@pytest.mark.parametrize("rel", chapter_pages())
def test_chapter_page(visits, rel):
    v = visits(rel)
    page = v.page
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = urlsplit(cfg["repository"]["url"]).path.strip("/")
    want = f"https://colab.research.google.com/github/{repo}/blob/{cfg['repository']['branch']}/{rel[:-5]}.ipynb"
    assert want in v.report["colab"], f"Colab launch link should be {want}, found {v.report['colab']}"
    assert v.report["typeset"] > 0 and v.report["images"] > 0, "a chapter has formulas and figures"

    solutions = page.locator("div.solution")
    assert solutions.count() > 0, "a chapter closes with exercises and folded solutions"
    for i in range(solutions.count()):
        body = solutions.nth(i).locator("section")
        assert body.count() and not body.first.is_visible(), f"solution {i + 1} is not folded"
    hidden = page.locator("div.cell.tag_hide-input div.cell_input")
    for i in range(hidden.count()):
        assert not hidden.nth(i).is_visible(), f"hide-input cell {i + 1} shows its code"
    params = page.locator("div.cell.tag_parameters div.cell_input")
    assert params.count() == 1 and params.first.is_visible(), "the parameters cell is visible"

    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = Path(rel).stem
    page.screenshot(path=str(SHOTS / f"{stem}.png"))
    figure = page.locator("div.cell_output img").first
    figure.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{stem}-first-figure.png"))
