"""The book builds offline with warnings as errors, and its pages work without a network.

The book is built into a temporary folder (``jupyter-book build -W -n --keep-going``,
the same command as ``make book``), served from 127.0.0.1, and every page of the table
of contents is loaded in headless Chromium through ChromeDriver. Each page must request
nothing from any other host (the browser's DNS is pointed at nowhere, so an attempt
shows up as a request without leaking), every local request must succeed (the favicon
included), its math must be typeset by the local MathJax, its images must load, and
its console must show no error. The explorers are kernel-free HTML and JavaScript, so
no page may carry ipywidgets or the scripts that once rendered them.

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
from collections.abc import Callable
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
# What the ipywidgets embedding needed, gone from the site since the explorers stopped
# using it: none of these may appear in a built page (nor in _config.yml's settings).
WIDGET_LEFTOVERS = (
    "require.js",
    "require.min.js",
    "requirejs",
    "embed-amd",
    "html-manager",
    "widgets-offline",
    "data-jupyter-widgets-cdn",
    "application/vnd.jupyter.widget-state+json",
    "application/vnd.jupyter.widget-view+json",
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
    assert (vendor / "mathjax/es5/tex-mml-chtml.js").is_file(), "MathJax is not in the built book"
    for page in toc_pages():
        html = (built_book / f"{page}.html").read_text()
        scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
        vendored = [s for s in scripts if "_static/vendor/" in s and "fontawesome" not in s]
        # MathJax's entry point once, never its components.
        names = [urlsplit(s).path.split("_static/vendor/")[1] for s in vendored]
        assert names == ["mathjax/es5/tex-mml-chtml.js"], (page, names)
        external = [s for s in scripts if urlsplit(s).scheme]
        assert not external, f"{page} loads scripts from elsewhere: {external}"
        # An inline script the head carries twice redeclares its constants: a script
        # error. (The explorers' own scripts in the body guard against running twice.)
        inline = re.findall(r"<script>(.*?)</script>", html.split("</head>", 1)[0], re.S)
        declares = re.compile(r"\b(const|let|class)\s")
        twice = sorted({b[:80] for b in inline if inline.count(b) > 1 and declares.search(b)})
        assert not twice, f"{page} has inline scripts twice: {twice}"


def test_no_page_carries_the_ipywidgets_embedding(built_book):
    config = yaml.safe_load((BOOK / "_config.yml").read_text())["sphinx"]["config"]
    # An empty mapping: myst-nb adds no widget script, where leaving it out would add
    # require.js and the embed bundle from CDNs to any page with widget state.
    assert config["nb_ipywidgets_js"] == {}
    myst_nb_config = pytest.importorskip("myst_nb.core.config")
    assert myst_nb_config.NbParserConfig(ipywidgets_js={}).ipywidgets_js == {}
    assert not any(leftover in json.dumps(config) for leftover in WIDGET_LEFTOVERS)
    # MathJax alone is fetched (it has a require.js of its own, a TeX extension); the
    # theme brings fontawesome.
    vendored = {p.name for p in (built_book / "_static" / "vendor").iterdir()}
    assert vendored - {".fetched.json"} == {"mathjax", "fontawesome"}, sorted(vendored)
    static = [p.name for p in (built_book / "_static").rglob("*") if "vendor" not in p.parts]
    stray = [name for name in static if any(leftover in name for leftover in WIDGET_LEFTOVERS)]
    assert not stray, f"widget files in the built book: {stray}"
    for page in toc_pages():
        html = (built_book / f"{page}.html").read_text()
        found = [leftover for leftover in WIDGET_LEFTOVERS if leftover in html]
        assert not found, f"{page} still references {found}"


def test_every_page_links_the_favicon(built_book):
    icon = BOOK / yaml.safe_load((BOOK / "_config.yml").read_text())["html"]["favicon"]
    assert icon.is_file() and icon.stat().st_size < 8192, icon
    assert (built_book / "_static" / icon.name).read_bytes() == icon.read_bytes()
    for page in toc_pages():
        html = (built_book / f"{page}.html").read_text()
        assert f'<link rel="icon" href="_static/{icon.name}"' in html, page


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


# Seconds without a new network event after which a ready page counts as loaded. What a
# page requests later still shows: the explorers' checks read the network log again.
QUIET = 0.5


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
        if driver.execute_script(ready_js) and now - quiet_since > QUIET:
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


# Each page is loaded once per session. A module that checks more on a loaded page adds
# its check here, as tests/test_book_explorers.py does: check(driver, page, result) is
# called with the page in the browser and its result is kept under the check's name.
PAGE_CHECKS: dict[str, Callable[[object, str, dict], object]] = {}
_RENDERED: dict[str, dict] = {}


@pytest.fixture(scope="module")
def rendered(built_book, server, browser):
    """Every page loaded once, with PAGE_CHECKS run on it; the tests below read the
    results."""
    if "pages" not in _RENDERED:
        _RENDERED["pages"] = render_pages(built_book, server, browser)
    return _RENDERED["pages"]


def render_pages(built_book: Path, server: str, browser) -> dict:
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
        for name, check in PAGE_CHECKS.items():
            results[page][name] = check(browser, page, results[page])
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


def test_explorers_and_no_ipywidgets_render(rendered):
    # The explorers are kernel-free HTML (tests/test_book_explorers.py tries them);
    # no page renders an ipywidget.
    explorers = {p: r["found"]["explorers"] for p, r in rendered.items()}
    assert any(explorers.values()), "no page of the book shows an explorer"
    widgets = {p: r["found"]["widgets"] for p, r in rendered.items() if r["found"]["widgets"]}
    assert not widgets, f"pages render ipywidgets: {widgets}"


def test_figures_load(rendered):
    pages_with_figures = [p for p, r in rendered.items() if r["expect"]["imgs"]]
    assert pages_with_figures, "no page of the book has a figure"
    for page in pages_with_figures:
        found = rendered[page]["found"]
        print(page, "img:", found["imgs"], "broken:", found["imgs_broken"])
        assert found["imgs"] >= rendered[page]["expect"]["imgs"], page
        assert not found["imgs_broken"], f"{page}: images that did not load"


def test_no_console_errors(rendered):
    # Any error: an uncaught exception, a failed load, one the page logs itself.
    errors = [
        f"{page}: {entry['message'][:300]}"
        for page, r in rendered.items()
        for entry in r["console"]
        if entry["level"] == "SEVERE"
    ]
    assert not errors, "\n".join(errors)


def test_the_book_static_folder_holds_no_script():
    # Jupyter Book 1 would add any script there to every page (see _config.yml).
    assert [p.name for p in (BOOK / "_static").rglob("*") if p.is_file()] == ["narrow.css"]
