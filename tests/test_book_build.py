"""The book builds offline with warnings as errors, and its pages work without a network.

The book is built into a temporary folder (``jupyter-book build -W -n --keep-going``,
the same command as ``make book``), served from 127.0.0.1, and every page of the table
of contents is loaded in headless Chromium through ChromeDriver. Each page must request
nothing from any other host (the browser's DNS is pointed at nowhere, so an attempt
shows up as a request without leaking), its math must be typeset by the local MathJax,
its embedded widgets must render, once each, from the local embed bundle, and its
images must load.

Needs npm (to fetch the JavaScript assets, unless ``book/_assets`` already holds them)
and Debian's ``chromium`` and ``chromium-driver``; without them the browser checks are
skipped, except under CI, where ``.ci/run`` installs them and a skip would hide a gap.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SERVER_HOST = "127.0.0.1"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
    # Any host but the local server resolves to nothing: an attempt to reach one is
    # still recorded as a request (and fails the test) but never leaves the machine.
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {SERVER_HOST}",
]
# Requests a browser makes on its own, not the page.
BROWSER_OWN = {"/favicon.ico"}
# Script errors of the themes Jupyter Book 1 ships, harmless and not ours to fix:
# sphinx-thebe writes its inline configuration twice (a const declared twice).
KNOWN_ERRORS = (
    "Identifier 'THEBE_JS_URL' has already been declared",
    # pydata-sphinx-theme on a first visit, before it has stored a colour mode.
    "Got invalid theme mode: . Resetting to auto.",
)


def missing(what: str) -> None:
    """Skip for a missing tool, but fail under CI, which is expected to install it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing under CI (.ci/run installs it)")
    pytest.skip(f"{what} is missing")


def toc_pages() -> list[str]:
    """Page names (no suffix) of the table of contents, in reading order."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    pages = [toc["root"]]
    for entry in toc.get("chapters", []):
        pages.append(entry["file"])
    for part in toc.get("parts", []):
        pages += [entry["file"] for entry in part.get("chapters", [])]
    return [str(Path(p).with_suffix("")) for p in pages]


# The built book's folder, once per session: tests/test_book_explorers.py imports the
# fixture below, and pytest would otherwise build the book once per module.
_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    if "html" not in _BUILT:
        _BUILT["html"] = build_book(tmp_path_factory.mktemp("book"))
    return _BUILT["html"]


def build_book(out: Path) -> Path:
    """Build the book into out, as `make book` does; return its HTML folder."""
    if not (BOOK / "_assets" / "_static" / "vendor" / ".fetched.json").is_file():
        if shutil.which("npm") is None:
            missing("npm (to fetch the book's JavaScript assets)")
    subprocess.run([sys.executable, str(ROOT / "tools" / "fetch_assets.py")], check=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    start = time.perf_counter()
    proc = subprocess.run(
        [
            str(jupyter_book),
            "build",
            str(BOOK),
            "--builder",
            "html",
            "-W",
            "-n",
            "--keep-going",
            "--path-output",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, (
        f"the book does not build cleanly:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    )
    print(f"book built in {time.perf_counter() - start:.1f} s")
    return out / "_build" / "html"


def test_every_page_is_built_with_local_scripts_once(built_book):
    vendor = built_book / "_static" / "vendor"
    for path in [
        "requirejs/require.js",
        "html-manager/dist/embed-amd.js",
        "mathjax/es5/tex-mml-chtml.js",
    ]:
        assert (vendor / path).is_file(), f"{path} is not in the built book"
    for page in toc_pages():
        html = (built_book / f"{page}.html").read_text()
        scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
        vendored = [s for s in scripts if "_static/vendor/" in s and "fontawesome" not in s]
        # Only the three entry points, never MathJax's components or the embed
        # bundle twice (widgets would render once per copy).
        names = sorted(urlsplit(s).path.split("_static/vendor/")[1] for s in vendored)
        allowed = {
            "requirejs/require.js",
            "html-manager/dist/embed-amd.js",
            "mathjax/es5/tex-mml-chtml.js",
        }
        assert len(names) == len(set(names)) and set(names) <= allowed, (page, names)
        external = [s for s in scripts if urlsplit(s).scheme]
        assert not external, f"{page} loads scripts from elsewhere: {external}"
        if "widget-view+json" in html:
            assert "html-manager/dist/embed-amd.js" in names, page
            assert "requirejs/require.js" in names, page


@contextlib.contextmanager
def serve(folder: Path):
    """Serve folder on 127.0.0.1 (a free port); yield the server's base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer((SERVER_HOST, 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{SERVER_HOST}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server(built_book):
    with serve(built_book) as url:
        yield url


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        missing("chromium or chromedriver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def network_events(driver) -> list[dict]:
    events = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"].startswith("Network."):
            events.append(message)
    return events


def load(driver, url: str, ready_js: str, timeout: float = 30.0) -> tuple[list[dict], bool]:
    """Load url and wait until ready_js is true and the network is quiet.

    Returns the page's network events and whether it got ready in time (the tests
    below say what is missing when it did not).
    """
    network_events(driver)  # drop what came before
    driver.get(url)
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        new = network_events(driver)
        events += new
        now = time.monotonic()
        if new:
            quiet_since = now
        if driver.execute_script(ready_js) and now - quiet_since > 1.0:
            return events, True
        time.sleep(0.2)
    return events, False


COUNT_JS = """
const n = (sel) => document.querySelectorAll(sel).length;
const imgs = Array.from(document.querySelectorAll('img'));
return {
  mjx: n('mjx-container'),
  math_nodes: n('.math'),
  widgets: n('.jupyter-widgets'),
  explorers: n('.cn-explorer'),
  sliders: n('.widget-slider'),
  outputs: n('.widget-output'),
  output_imgs: n('.widget-output img'),
  imgs: imgs.length,
  imgs_broken: imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src.slice(0, 80)),
};
"""


def expectations(html: str) -> dict:
    """What a page must show, read from its built HTML."""
    state = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S
    )
    models = json.loads(state.group(1))["state"] if state else {}
    return {
        "math": bool(re.search(r'class="math[ "]', html)),
        "widget_views": html.count('type="application/vnd.jupyter.widget-view+json"'),
        "slider_models": sum(m["model_name"].endswith("SliderModel") for m in models.values()),
        "imgs": html.count("<img "),
    }


@pytest.fixture(scope="module")
def rendered(built_book, server, browser):
    """Load every page once; the tests below read the results."""
    results = {}
    for page in toc_pages():
        expect = expectations((built_book / f"{page}.html").read_text())
        conditions = ["document.readyState === 'complete'"]
        if expect["math"]:
            conditions.append("document.querySelectorAll('mjx-container').length > 0")
        if expect["widget_views"]:
            conditions.append("document.querySelectorAll('.jupyter-widgets').length > 0")
        events, ready = load(browser, f"{server}/{page}.html", "return " + " && ".join(conditions))
        results[page] = {
            "expect": expect,
            "ready": ready,
            "events": events,
            "found": browser.execute_script(COUNT_JS),
            "console": browser.get_log("browser"),
        }
    return results


def test_pages_request_nothing_but_the_local_server(rendered):
    seen = {}
    for page, r in rendered.items():
        for e in r["events"]:
            if e["method"] not in ("Network.requestWillBeSent", "Network.webSocketCreated"):
                continue
            url = e["params"]["request"]["url"] if "request" in e["params"] else e["params"]["url"]
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            seen.setdefault(parts.hostname, set()).add(f"{page}: {url[:120]}")
    print("hosts requested:", {host: len(urls) for host, urls in seen.items()})
    others = {host: sorted(urls)[:5] for host, urls in seen.items() if host != SERVER_HOST}
    assert not others, f"pages requested other hosts: {others}"


def test_local_requests_all_succeed(rendered):
    failed = []
    for page, r in rendered.items():
        urls = {}
        for e in r["events"]:
            if e["method"] == "Network.requestWillBeSent":
                urls[e["params"]["requestId"]] = e["params"]["request"]["url"]
        for e in r["events"]:
            p = e["params"]
            url = urls.get(p.get("requestId"), "?")
            if urlsplit(url).path in BROWSER_OWN:
                continue
            if e["method"] == "Network.responseReceived" and p["response"]["status"] >= 400:
                failed.append(f"{page}: {p['response']['status']} {url}")
            elif e["method"] == "Network.loadingFailed" and not p.get("canceled"):
                failed.append(f"{page}: {p.get('errorText')} {url}")
    assert not failed, "\n".join(failed)


def test_math_renders(rendered):
    pages_with_math = [p for p, r in rendered.items() if r["expect"]["math"]]
    assert pages_with_math, "no page of the book has math"
    for page in pages_with_math:
        found = rendered[page]["found"]
        print(page, "mjx-container:", found["mjx"], "math nodes:", found["math_nodes"])
        assert found["mjx"] > 0, (
            f"{page}: MathJax typeset nothing (ready: {rendered[page]['ready']})"
        )


def test_widgets_render_once(rendered):
    pages_with_widgets = [p for p, r in rendered.items() if r["expect"]["widget_views"]]
    if not pages_with_widgets:
        # Once every explorer is kernel-free HTML (tests/test_book_explorers.py), the
        # book embeds no ipywidgets at all.
        explorers = {p: r["found"]["explorers"] for p, r in rendered.items()}
        assert any(explorers.values()), "no page of the book embeds widgets or explorers"
    for page in pages_with_widgets:
        found, expect = rendered[page]["found"], rendered[page]["expect"]
        print(page, {k: found[k] for k in ("widgets", "sliders", "outputs")}, expect)
        assert found["widgets"] > 0, (
            f"{page}: no widget rendered (ready: {rendered[page]['ready']})"
        )
        if expect["slider_models"]:
            assert 0 < found["sliders"] <= expect["slider_models"], (
                f"{page}: {found['sliders']} sliders rendered for "
                f"{expect['slider_models']} slider models (rendered twice?)"
            )


def test_figures_load(rendered):
    pages_with_figures = [p for p, r in rendered.items() if r["expect"]["imgs"]]
    assert pages_with_figures, "no page of the book has a figure"
    for page in pages_with_figures:
        found = rendered[page]["found"]
        print(page, "img:", found["imgs"], "broken:", found["imgs_broken"])
        assert found["imgs"] >= rendered[page]["expect"]["imgs"], page
        assert not found["imgs_broken"], f"{page}: images that did not load"


def test_no_script_errors(rendered):
    errors = []
    for page, r in rendered.items():
        for entry in r["console"]:
            message = entry["message"]
            # Uncaught exceptions only: failed loads are the test above's, and the
            # theme logs a console error on a first visit (no stored colour mode).
            if entry["level"] != "SEVERE" or "Uncaught" not in message:
                continue
            if not any(known in message for known in KNOWN_ERRORS):
                errors.append(f"{page}: {message[:300]}")
    assert not errors, "\n".join(errors)
