"""The docs site as a reader sees it: built with mkdocs, rendered in headless Chromium.

`mkdocs build --strict` passes a page whose fences the Markdown extensions did not recognise
(they come out as a paragraph of raw text that swallows the prose after it), docstrings whose
Sphinx roles are shown literally, and tables or signatures thousands of pixels wide. So each
page is loaded, at 1280 x 800 px, in Chromium (driven by Playwright) from a local HTTP server,
and this fails on:

- raw fences (```), Sphinx roles (``:class:``) or reST's ``::`` in the visible text outside code
  blocks;
- images that did not load, and links within the site to a missing page or anchor;
- code blocks, tables or the page itself wider than the column (they scroll sideways; a table
  whose words alone are wider needs shorter cells or a split), and table cells that break
  inside a name;
- a Markdown heading shown as text (with no blank line before it, it becomes a table's row);
- docstring text rendered as a blockquote, and API objects whose `>>>` examples are not shown
  as code blocks with their prompts (only an ``Examples:`` section is parsed as doctests);
- console errors, failed requests, and requests to anything but the site itself.

Needs the docs and browser extras (mkdocs, playwright) and a Chromium binary (Debian: apt-get
install chromium); without them it skips, with the install line in the reason.
"""

from __future__ import annotations

import functools
import html
import inspect
import os
import pydoc
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .browser import CHROMIUM_ARGS
from .optional import require

require("mkdocs")
require("mkdocstrings_handlers.python")
sync_api = require("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
VIEWPORT = {"width": 1280, "height": 800}
ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|exc|data|obj|ref|const|term|doc):")


def _chromium() -> str:
    candidates = [os.environ.get("HYPERBAND_CHROMIUM", "")]
    candidates += [shutil.which(n) or "" for n in ("chromium", "chromium-browser", "chrome")]
    for path in candidates:
        if path and Path(path).is_file():
            return path
    pytest.skip(
        "Chromium is not installed: apt-get install chromium "
        "(or set HYPERBAND_CHROMIUM to a Chromium or Chrome binary)"
    )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The built site, served on a free port of 127.0.0.1: (base URL, site directory)."""
    site_dir = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site_dir
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# Runs in the page; returns what it finds for Python to judge. Overflow is measured on the
# element that scrolls: a code block's <code>, a table's scroll wrapper, the page.
INSPECT = r"""
() => {
  const content = document.querySelector(".md-content");
  const describe = (el) => (el.innerText || "").trim().split("\n")[0].slice(0, 80);
  const pres = [...content.querySelectorAll("pre")];
  for (const pre of pres) pre.style.display = "none";
  const text = content.innerText;
  for (const pre of pres) pre.style.display = "";
  // The narrowest a table can be when its cells wrap at spaces (and only there): a copy with
  // no minimum cell widths and no breaking inside words, laid out at its min-content width.
  const narrowest = (table, box) => {
    const copy = table.cloneNode(true);
    copy.style.cssText = "width: min-content; position: absolute; visibility: hidden";
    for (const cell of copy.querySelectorAll("th, td, code")) {
      cell.style.minWidth = "0";
      cell.style.wordBreak = "normal";
      cell.style.overflowWrap = "normal";
      cell.style.whiteSpace = "normal";
    }
    box.appendChild(copy);
    const width = copy.getBoundingClientRect().width;
    copy.remove();
    return width;
  };
  const overflow = [];
  for (const el of content.querySelectorAll("pre > code, .md-typeset__scrollwrap")) {
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    const table = el.querySelector("table");
    // A table whose words alone are wider than the column cannot fit by wrapping: its cells
    // must be shortened or the table split.
    const words = table ? narrowest(table, el) : 0;
    const why = words > el.clientWidth + 1 ? ` (its words alone take ${Math.round(words)} px)` : "";
    overflow.push(`${el.tagName.toLowerCase()} ${el.scrollWidth} px > ${el.clientWidth} px${why}: `
                  + describe(el));
  }
  const page = document.scrollingElement;
  if (page.scrollWidth > window.innerWidth) {
    overflow.push(`the page is ${page.scrollWidth} px wide`);
  }
  const brokenNames = [];
  for (const cell of content.querySelectorAll("td, th")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[A-Za-z0-9_]{2,}/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) brokenNames.push(m[0]);
      }
    }
  }
  const images = [...document.images]
    .filter((img) => !img.complete || img.naturalWidth === 0)
    .map((img) => img.getAttribute("src"));
  const links = [...document.querySelectorAll("a[href]")]
    .map((a) => new URL(a.getAttribute("href"), document.baseURI))
    .filter((url) => url.origin === location.origin)
    .map((url) => [url.pathname, decodeURIComponent(url.hash.slice(1))]);
  // A Markdown heading with no blank line before it becomes a row of the table above it.
  const rawHeadings = [...content.querySelectorAll("td, th, p, li")]
    .map((el) => el.innerText.trim())
    .filter((t) => /^#{1,6} \S/.test(t));
  // A docstring's `>>>` example outside an Examples: section is read as Markdown: its prompts
  // become nested blockquotes and its lines run together into one paragraph.
  const quotes = [...content.querySelectorAll(".doc-contents blockquote")]
    .filter((quote) => !quote.parentElement.closest("blockquote"))
    .map(describe);
  return {text, overflow, brokenNames, images, links, rawHeadings, quotes};
}
"""


def _ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        found = re.findall(r"""\bid=["']?([^"'\s>]+)""", path.read_text(errors="replace"))
        cache[path] = {html.unescape(i) for i in found}
    return cache[path]


def _missing_targets(links: list[list[str]], site_dir: Path) -> list[str]:
    missing = []
    cache: dict[Path, set[str]] = {}
    for pathname, anchor in links:
        target = site_dir / urllib.parse.unquote(pathname).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            missing.append(pathname)
        elif anchor and target.suffix == ".html" and anchor not in _ids(target, cache):
            missing.append(f"{pathname}#{anchor}")
    return sorted(set(missing))


def _url(base: str, page: str) -> str:
    return f"{base}/" if page == "index.md" else f"{base}/{page.removesuffix('.md')}/"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_cleanly(page: str, site: tuple[str, Path], browser: Any) -> None:
    base, site_dir = site
    tab = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    outside: list[str] = []

    def route(request_route: Any) -> None:
        if request_route.request.url.startswith(base):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    def console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def response(answer: Any) -> None:
        if answer.status >= 400:
            errors.append(f"HTTP {answer.status}: {answer.url}")

    tab.route("**/*", route)
    tab.on("console", console)
    tab.on("response", response)
    tab.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    tab.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    try:
        response = tab.goto(_url(base, page), wait_until="networkidle")
        assert response is not None
        assert response.status == 200
        found = tab.evaluate(INSPECT)
    finally:
        tab.close()

    problems = {
        "raw fences in the text": [
            line.strip() for line in found["text"].splitlines() if "```" in line
        ],
        "Sphinx roles in the text": sorted(set(ROLE.findall(found["text"]))),
        "reST literal markers (::) in the text": [
            line.strip() for line in found["text"].splitlines() if line.rstrip().endswith("::")
        ],
        "wider than the page at 1280 px": found["overflow"],
        "names broken inside a table cell": found["brokenNames"],
        "Markdown headings shown as text (no blank line before them?)": found["rawHeadings"],
        "docstring text rendered as a blockquote (a >>> example outside Examples:?)": found[
            "quotes"
        ],
        "images that did not load": found["images"],
        "links to missing pages or anchors": _missing_targets(found["links"], site_dir),
        "console errors and failed requests": errors,
        "requests outside the site": outside,
    }
    report = "".join(
        f"\n{what}:" + "".join(f"\n    {item}" for item in items)
        for what, items in problems.items()
        if items
    )
    assert not report, f"{page} at {VIEWPORT['width']} px:{report}"


# Classes whose constructor's signature the API page must show (mkdocstrings shows a class's
# __init__ only with merge_init_into_class), with a parameter each must list.
CONSTRUCTORS = {"hyperband.Hyperband": "space_or_sampler", "hyperband.RandomSampler": "space"}


def test_api_page_shows_constructor_signatures(site: tuple[str, Path], browser: Any) -> None:
    base, _ = site
    tab = browser.new_page(viewport=VIEWPORT)
    try:
        tab.goto(_url(base, "api.md"), wait_until="load")
        signatures = tab.evaluate(
            """(ids) => Object.fromEntries(ids.map((id) => {
                 const object = document.getElementById(id).closest(".doc-object");
                 const signature = object.querySelector(".doc-signature");
                 return [id, signature ? signature.innerText : null];
               }))""",
            list(CONSTRUCTORS),
        )
    finally:
        tab.close()
    for name, parameter in CONSTRUCTORS.items():
        signature = signatures[name]
        assert signature is not None, f"{name} has no signature"
        assert signature.startswith(name.rsplit(".", 1)[1] + "(")
        assert parameter in signature


def test_api_examples_are_code_blocks(site: tuple[str, Path], browser: Any) -> None:
    """Each documented object whose docstring holds a `>>>` example shows it as a code block.

    Only a section titled ``Examples:`` is parsed as doctests; under ``Example:`` (an
    admonition) the same lines are Markdown, whose ``>`` makes nested blockquotes.
    """
    base, _ = site
    tab = browser.new_page(viewport=VIEWPORT)
    try:
        tab.goto(_url(base, "api.md"), wait_until="load")
        # For each object's heading id: the text of the code blocks in its own contents (not
        # its members').
        blocks = tab.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll(".doc-heading[id]")]
                 .map((heading) => {
                   const contents = heading.closest(".doc-object")
                     .querySelector(":scope > .doc-contents");
                   const own = contents ? [...contents.querySelectorAll("pre")].filter(
                     (pre) => pre.closest(".doc-object") === heading.closest(".doc-object"))
                     : [];
                   return [heading.id, own.map((pre) => pre.innerText)];
                 }))"""
        )
    finally:
        tab.close()
    with_examples = {}
    for name in blocks:
        obj = pydoc.locate(name)
        # Only what has a docstring of its own (an attribute's value has its type's).
        documented = inspect.isroutine(obj) or inspect.isclass(obj) or inspect.ismodule(obj)
        doc = obj.__doc__ if documented or isinstance(obj, property) else None
        if doc and re.search(r"^\s*>>> ", doc, re.MULTILINE):
            with_examples[name] = len(re.findall(r"^\s*>>> ", doc, re.MULTILINE))
    assert len(with_examples) >= 10, f"too few examples found on the API page: {with_examples}"
    missing = {
        name: f"{count} prompts in the docstring, {shown} shown in code blocks"
        for name, count in with_examples.items()
        if (shown := sum(len(re.findall(r"^>>> ", b, re.MULTILINE)) for b in blocks[name])) != count
    }
    assert not missing, "docstring examples not shown as code blocks with their >>> prompts:\n" + (
        "\n".join(f"    {name}: {why}" for name, why in missing.items())
    )
