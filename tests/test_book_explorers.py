"""The book's explorers stay live without a kernel: in headless Chromium, on the built pages.

An explorer is a self-contained piece of HTML and JavaScript (``centernet_edu.widgets``):

    <div class="cn-explorer" data-explorer="NAME">
      <input type="range" name="CONTROL" ...>   (or <select name="CONTROL">)
      <svg class="cn-figure"> or <canvas class="cn-figure">, redrawn on every change
      <output name="QUANTITY" data-value="FULL-PRECISION">shown text</output>
      <script type="application/json">fixed inputs</script>   (optional)
    </div>

For every explorer on a page the harness below moves every control (sets its value and
dispatches ``input`` and ``change``; for one slider per explorer, arrow keys on the
focused slider), and checks that the figure changes and that every ``<output>``'s
``data-value`` equals the package's value for the controls as they now stand, within 1e-6
relative: ``centernet_edu.widgets.explorer_quantities(name, controls, data)``, where
``controls`` maps each control's name to its value (a number where the value reads as one,
else the string) and ``data`` is the explorer's parsed JSON, or None. A page must also log
no script error and request nothing from a host other than 127.0.0.1; a screenshot of each
chapter goes to ``test-output/screenshots/`` for a person to look at.

The harness is tested here on a hand-written toy explorer (and on broken copies of it, so
that each check is seen to fail), and runs over every chapter of the built book, which
the fixtures of ``tests/test_book_build.py`` build, serve and load.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import test_book_build as book_build
from test_book_build import (
    BOOK,
    ROOT,
    SERVER_HOST,
    load,
    network_events,
    serve,
)

# The fixtures that build, serve and load the book, shared: the book is built once.
built_book = book_build.built_book
server = book_build.server
browser = book_build.browser

SCREENSHOTS = ROOT / "test-output" / "screenshots"
RELATIVE = 1e-6
# Arrow-key presses within which a slider's figure must change (one step may draw the same).
ARROW_PRESSES = 3
# A reference: (explorer name, control values, the explorer's JSON data) -> quantities.
Reference = Callable[[str, dict, object], dict]

EXPLORERS_JS = """
return Array.from(document.querySelectorAll('.cn-explorer')).map((root) => {
  const data = root.querySelector('script[type="application/json"]');
  return {
    name: root.dataset.explorer || '',
    controls: Array.from(root.querySelectorAll('input[type=range][name], select[name]')).map(
      (el) => ({
        name: el.name,
        kind: el.tagName.toLowerCase() === 'select' ? 'select' : 'range',
        min: el.min, max: el.max, step: el.step, value: el.value,
        options: el.options ? Array.from(el.options).map((o) => o.value) : [],
      })),
    figures: root.querySelectorAll('.cn-figure').length,
    outputs: Array.from(root.querySelectorAll('output[name]')).map((o) => o.name),
    data: data ? data.textContent : null,
  };
});
"""
# The state of explorer i: its controls' values, its figure, its outputs' data-value.
STATE_JS = """
const root = document.querySelectorAll('.cn-explorer')[arguments[0]];
const controls = {};
root.querySelectorAll('input[type=range][name], select[name]').forEach(
  (el) => { controls[el.name] = el.value; });
const outputs = {};
root.querySelectorAll('output[name]').forEach((o) => {
  outputs[o.name] = o.hasAttribute('data-value') ? o.getAttribute('data-value') : null; });
const figure = Array.from(root.querySelectorAll('.cn-figure')).map(
  (f) => f.tagName.toLowerCase() === 'canvas' ? f.toDataURL() : f.outerHTML).join('\\n');
return {controls: controls, outputs: outputs, figure: figure};
"""
SET_JS = """
const root = document.querySelectorAll('.cn-explorer')[arguments[0]];
const el = root.querySelector('[name="' + arguments[1] + '"]');
el.value = arguments[2];
el.dispatchEvent(new Event('input', {bubbles: true}));
el.dispatchEvent(new Event('change', {bubbles: true}));
return el.value;
"""
# Two animation frames: whatever an input event scheduled has been drawn.
FRAMES_JS = """
const done = arguments[arguments.length - 1];
requestAnimationFrame(() => requestAnimationFrame(() => done(true)));
"""


def typed(value: str):
    """A control's value as the reference receives it: int, float, or the string."""
    if re.fullmatch(r"[-+]?\d+", value):
        return int(value)
    try:
        return float(value)
    except ValueError:
        return value


def close(shown: str | None, want) -> bool:
    """Whether an output's data-value equals the reference: numbers within RELATIVE,
    anything else (a case's name) exactly."""
    if isinstance(want, str):
        return shown == want
    try:
        got, want = float(shown), float(want)
    except (TypeError, ValueError):
        return False
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    return math.isclose(got, want, rel_tol=RELATIVE, abs_tol=1e-12)


def moves(control: dict) -> list[str]:
    """Values to set a control to: a range's ends and middle, each option of a select."""
    if control["kind"] == "select":
        return [v for v in control["options"] if v != control["value"]]
    lo = float(control["min"] or 0)
    hi = float(control["max"] or 100)
    step = control["step"]
    middle = (lo + hi) / 2
    if step not in ("", "any"):
        middle = lo + round((middle - lo) / float(step)) * float(step)
    values = [repr(lo), repr(middle), repr(hi), control["value"]]
    return [v for v in values if float(v) != float(control["value"])] + [control["value"]]


def state(driver, index: int) -> dict:
    driver.execute_async_script(FRAMES_JS)
    return driver.execute_script(STATE_JS, index)


def compare(explorer: dict, now: dict, reference: Reference, when: str) -> list[str]:
    """The outputs of an explorer that disagree with the reference, in words."""
    controls = {k: typed(v) for k, v in sorted(now["controls"].items())}
    data = json.loads(explorer["data"]) if explorer["data"] is not None else None
    try:
        want = reference(explorer["name"], controls, data)
    except Exception as err:  # the reference's failure is the finding
        return [f"{when}: the reference raised {type(err).__name__}: {err} for {controls}"]
    problems = []
    for name, shown in now["outputs"].items():
        if name not in want:
            problems.append(f"{when}: output {name} has no reference value for {controls}")
        elif not close(shown, want[name]):
            problems.append(
                f"{when}: output {name} shows {shown}, the package gives {want[name]!r} "
                f"for {controls}"
            )
    return problems


def exercise(driver, index: int, explorer: dict, reference: Reference) -> list[str]:
    """Move every control of explorer ``index``; what went wrong, in words."""
    label = f"{explorer['name'] or '(no data-explorer)'}#{index}"
    if not explorer["name"]:
        return [f"{label}: no data-explorer name"]
    if explorer["figures"] != 1 or not explorer["controls"]:
        return [f"{label}: {explorer['figures']} .cn-figure, {len(explorer['controls'])} controls"]
    before = state(driver, index)
    problems = compare(explorer, before, reference, f"{label} as loaded")
    for control in explorer["controls"]:
        changed = False
        for value in moves(control):
            driver.execute_script(SET_JS, index, control["name"], value)
            now = state(driver, index)
            changed |= now["figure"] != before["figure"]
            when = f"{label} {control['name']}={now['controls'][control['name']]}"
            problems += compare(explorer, now, reference, when)
            before = now
        if not changed:
            problems.append(f"{label}: moving {control['name']} never changed the figure")
    return problems + press_arrow(driver, index, explorer, reference)


def press_arrow(driver, index: int, explorer: dict, reference: Reference) -> list[str]:
    """Arrow keys on the explorer's first slider, focused, as a keyboard user moves it:
    each press moves it one step, and within a few steps the figure follows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sliders = [c for c in explorer["controls"] if c["kind"] == "range"]
    if not sliders:
        return []
    name = sliders[0]["name"]
    root = driver.find_elements(By.CSS_SELECTOR, ".cn-explorer")[index]
    slider = root.find_element(By.CSS_SELECTOR, f'input[name="{name}"]')
    value, lo, hi = (
        float(slider.get_attribute(a) or d) for a, d in [("value", 0), ("min", 0), ("max", 100)]
    )
    key = Keys.ARROW_RIGHT if value - lo <= hi - value else Keys.ARROW_LEFT  # the longer way
    label = f"{explorer['name']}#{index} {name} (arrow key)"
    first = before = state(driver, index)
    problems = []
    for _ in range(ARROW_PRESSES):
        slider.send_keys(key)
        now = state(driver, index)
        if now["controls"][name] == before["controls"][name]:
            if before is first:
                return problems + [f"{label}: the arrow key did not move the slider"]
            break  # at the end of the range
        problems += compare(explorer, now, reference, f"{label}={now['controls'][name]}")
        if now["figure"] != first["figure"]:
            return problems
        before = now
    return problems + [f"{label}: moving it did not change the figure"]


def console_errors(entries: list[dict]) -> list[str]:
    """Every error in the browser's log."""
    return [e["message"][:300] for e in entries if e["level"] == "SEVERE"]


def other_hosts(events: list[dict]) -> list[str]:
    """URLs requested from any host but the local server."""
    urls = []
    for e in events:
        if e["method"] == "Network.requestWillBeSent":
            urls.append(e["params"]["request"]["url"])
        elif e["method"] == "Network.webSocketCreated":
            urls.append(e["params"]["url"])
    return sorted(
        {
            u
            for u in urls
            if urlsplit(u).scheme not in ("data", "blob", "about")
            and urlsplit(u).hostname != SERVER_HOST
        }
    )


def screenshot(driver, path: Path) -> None:
    """The whole page, not just the window, as a PNG."""
    width, height = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollHeight]"
    )
    # A window as tall as the page: the layout stays the one a reader gets at this width.
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def check_page(driver, url: str, reference: Reference, shot: Path | None = None) -> dict:
    """Load url, take its screenshot, exercise its explorers: what was found and wrong."""
    driver.get_log("browser")  # drop what came before
    events, ready = load(driver, url, "return document.readyState === 'complete'")
    problems = [] if ready else [f"{url} did not finish loading"]
    return check_loaded(driver, reference, shot, events, [], problems)


def check_loaded(
    driver, reference: Reference, shot: Path | None, events: list, console: list, problems: list
) -> dict:
    """check_page on a page already loaded, whose loading brought ``events`` and the
    browser log ``console``."""
    if shot is not None:
        screenshot(driver, shot)
    explorers = driver.execute_script(EXPLORERS_JS)
    for index, explorer in enumerate(explorers):
        problems += exercise(driver, index, explorer, reference)
    events = events + network_events(driver)
    problems += [f"requested another host: {u}" for u in other_hosts(events)]
    console = console + driver.get_log("browser")
    problems += [f"console: {m}" for m in console_errors(console)]
    return {"explorers": [e["name"] for e in explorers], "problems": problems}


# A toy explorer: a slider x and a mode; y = scale * x (doubling, with scale 2 in its
# JSON) or -x, drawn as a bar. The keyword arguments break it in one way each.
# The test pages name an empty icon, as the book's pages name theirs: without one the
# browser asks the server for /favicon.ico, and the 404 is a console error.
ICON = '<link rel="icon" href="data:,">'
TOY = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>toy</title>{ICON}</head><body>
<div class="cn-explorer" data-explorer="toy">
  <label>x <input type="range" name="x" min="0" max="10" step="0.5" value="2"></label>
  <label>mode <select name="mode"><option value="double" selected>double</option>
    <option value="negate">negate</option></select></label>
  <svg class="cn-figure" width="220" height="40"><rect x="0" y="10" height="20"></rect></svg>
  <output name="y"></output>
  <script type="application/json">{"scale": 2}</script>
  <script>
  (function (root) {
    const data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
    const out = root.querySelector('output[name=y]');
    const bar = root.querySelector('rect');
    function draw() {
      const x = Number(root.querySelector('[name=x]').value);
      const mode = root.querySelector('[name=mode]').value;
      const y = mode === 'double' ? FACTOR * data.scale / 2 * x : -x;
      out.dataset.value = String(y);
      out.textContent = y.toFixed(2);
      if (REDRAW) {
        bar.setAttribute('width', String(10 * Math.abs(y)));
        bar.setAttribute('fill', mode === 'double' ? 'steelblue' : 'tomato');
      }
      EXTRA
    }
    root.addEventListener('input', draw);
    draw();
  })(document.currentScript.parentElement);
  </script>
</div>
</body></html>
"""


def toy_reference(name: str, controls: dict, data) -> dict:
    assert name == "toy"
    x = controls["x"]
    return {"y": data["scale"] * x if controls["mode"] == "double" else -x}


def toy_page(folder: Path, factor: int = 2, redraw: bool = True, extra: str = "") -> Path:
    html = TOY.replace("{ICON}", ICON).replace("FACTOR", str(factor))
    html = html.replace("REDRAW", str(redraw).lower())
    path = folder / "toy.html"
    path.write_text(html.replace("EXTRA", extra))
    return path


@pytest.fixture
def check_toy(tmp_path, browser):
    """Serve a toy page made with the given breakage and check it."""

    def run(**breakage) -> dict:
        toy_page(tmp_path, **breakage)
        with serve(tmp_path) as url:
            return check_page(browser, f"{url}/toy.html", toy_reference, tmp_path / "toy.png")

    return run


def test_the_harness_passes_a_working_explorer(check_toy, tmp_path):
    result = check_toy()
    assert result == {"explorers": ["toy"], "problems": []}
    assert (tmp_path / "toy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_harness_catches_a_number_that_differs_from_the_reference(check_toy):
    problems = check_toy(factor=3)["problems"]
    assert problems, "a wrong number passed"
    assert problems[0] == (
        "toy#0 as loaded: output y shows 6, the package gives 4 for {'mode': 'double', 'x': 2}"
    )
    # The wrong mode only: once negated, the toy agrees again.
    assert not any("'mode': 'negate'" in p for p in problems)


def test_the_harness_catches_a_figure_that_does_not_move(check_toy):
    problems = check_toy(redraw=False)["problems"]
    assert problems == [
        "toy#0: moving x never changed the figure",
        "toy#0: moving mode never changed the figure",
        "toy#0 x (arrow key): moving it did not change the figure",
    ]


def test_the_harness_catches_a_script_error(check_toy):
    problems = check_toy(extra="if (x > 9) { throw new Error('too far'); }")["problems"]
    assert any(p.startswith("console: ") and "too far" in p for p in problems), problems


def test_the_harness_catches_a_request_to_another_host(check_toy):
    problems = check_toy(extra="new Image().src = 'http://example.com/pixel.png';")["problems"]
    assert "requested another host: http://example.com/pixel.png" in problems


def test_values_reach_the_reference_as_numbers():
    assert typed("3") == 3 and isinstance(typed("3"), int)
    assert typed("0.25") == 0.25 and typed("1e-3") == 0.001
    assert typed("corrected") == "corrected"
    assert close("0.30000000000000004", 0.3) and not close("0.3001", 0.3)
    assert close("NaN", float("nan")) and not close(None, 1.0) and not close("", 0.0)
    assert close("1e-13", 0.0) and not close("1e-6", 0.0)
    assert close("r3", "r3") and not close("r1", "r3")


def test_moves_reach_both_ends_and_come_back():
    slider = {"kind": "range", "min": "0", "max": "10", "step": "0.5", "value": "2"}
    assert moves(slider) == ["0.0", "5.0", "10.0", "2"]
    assert moves({**slider, "value": "10"}) == ["0.0", "5.0", "10"]
    select = {"kind": "select", "options": ["a", "b", "c"], "value": "b"}
    assert moves(select) == ["a", "c"]


# The package's own explorers, on a page of their own: live once their script runs, with
# their static picture and its hint hidden; without scripts (a notebook opened untrusted
# runs none), the picture and the hint alone.

PICTURE_JS = """
return Array.from(document.querySelectorAll('.cn-explorer')).map((root) => {
  const shown = (sel) => Array.from(root.querySelectorAll(sel)).map((e) => e.getClientRects().length > 0);
  const img = root.querySelector('img.cn-picture');
  return {
    picture: shown('.cn-picture'), hint: shown('.cn-hint'), live: shown('.cn-live'),
    loaded: img ? img.complete && img.naturalWidth > 0 : null,
    drawn: root.querySelector('.cn-figure').childElementCount > 0,
  };
});
"""


def explorer_page(path: Path, explorers: list, scripts: bool = True) -> Path:
    """A page holding the explorers' HTML, with their scripts or without them."""
    body = "\n".join(e._repr_html_() for e in explorers)
    if not scripts:
        body = re.sub(r"<script>.*?</script>", "", body, flags=re.S)
    path.write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>explorers</title>'
        f"{ICON}</head>"
        f"<body>{body}</body></html>"
    )
    return path


def test_a_live_explorer_hides_its_picture_and_the_hint(tmp_path, browser):
    pytest.importorskip("matplotlib")
    widgets = pytest.importorskip("centernet_edu.widgets")
    explorers = [widgets.size_explorer(), widgets.focal_loss_explorer()]
    explorer_page(tmp_path / "live.html", explorers)
    explorer_page(tmp_path / "static.html", explorers, scripts=False)
    with serve(tmp_path) as url:
        result = check_page(browser, f"{url}/live.html", package_reference())
        live = browser.execute_script(PICTURE_JS)
        load(browser, f"{url}/static.html", "return document.readyState === 'complete'")
        static = browser.execute_script(PICTURE_JS)
    assert result == {"explorers": ["size", "focal"], "problems": []}
    hidden = {"picture": [False], "hint": [False], "live": [True], "loaded": True, "drawn": True}
    assert live == [hidden, hidden]
    shown = {"picture": [True], "hint": [True], "live": [False], "loaded": True, "drawn": False}
    assert static == [shown, shown]


# The chapters of the built book.


def package_reference() -> Reference:
    """The package's numbers for every explorer: ``explorer_quantities`` of
    ``centernet_edu.widgets`` (``quantities`` where the module names it so)."""
    widgets = pytest.importorskip("centernet_edu.widgets")
    for name in ("explorer_quantities", "quantities"):
        if callable(getattr(widgets, name, None)):
            return getattr(widgets, name)
    pytest.fail("centernet_edu.widgets has no explorer_quantities(name, controls, data)")


def explore(driver, page: str, rendered: dict) -> dict:
    """check_loaded on a page of the book as tests/test_book_build.py loaded it, with a
    screenshot, and the ipywidgets sliders it shows or holds in its state."""
    reference = package_reference() if rendered["found"]["explorers"] else None
    problems = [] if rendered["ready"] else [f"{page} did not finish loading"]
    shot = SCREENSHOTS / f"{page}.png"
    result = check_loaded(
        driver, reference, shot, rendered["events"], rendered["console"], problems
    )
    result["frozen"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('.widget-slider'))"
        ".filter((s) => !s.closest('.cn-explorer')).length"
    )
    result["slider_models"] = rendered["expect"]["slider_models"]
    return result


# Exercised while the page-loading walk of tests/test_book_build.py has each page open, so
# that every page is loaded once.
book_build.PAGE_CHECKS["explored"] = explore
rendered = book_build.rendered


@pytest.fixture(scope="module")
def explored(rendered) -> dict:
    """Every page of the book checked once; the tests below read the results."""
    missing = [page for page, r in rendered.items() if "explored" not in r]
    assert not missing, f"pages loaded before this module added its check: {missing}"
    return {page: r["explored"] for page, r in rendered.items()}


def explorer_chapters() -> list[str]:
    """Chapters 1-9 whose notebook shows an explorer (calls a ``*_explorer`` function)."""
    pages = []
    for path in sorted(BOOK.glob("0[1-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        if re.search(r"\b\w+_explorer\(", code):
            pages.append(path.stem)
    return pages


def test_every_chapter_has_a_screenshot(explored):
    for page in explored:
        assert (SCREENSHOTS / f"{page}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", page


def test_every_control_of_every_explorer_works(explored):
    found = {page: r["explorers"] for page, r in explored.items() if r["explorers"]}
    print("explorers:", found)
    problems = {page: r["problems"] for page, r in explored.items() if r["problems"]}
    assert not problems, json.dumps(problems, indent=1)


def test_chapters_show_live_explorers_and_no_frozen_sliders(explored):
    if not any(r["explorers"] for r in explored.values()):
        pytest.skip("the built book has no .cn-explorer yet")
    chapters = explorer_chapters()
    assert chapters, "no chapter calls an explorer"
    assert not [page for page in chapters if not explored[page]["explorers"]], (
        "chapters whose explorers are not live in the built page"
    )
    frozen = {
        page: (r["frozen"], r["slider_models"])
        for page, r in explored.items()
        if r["frozen"] or r["slider_models"]
    }
    assert not frozen, f"ipywidgets sliders without a kernel (rendered, in state): {frozen}"


# A narrow window: a phone held upright ---------------------------------------------------

NARROW = 390  # CSS pixels, the width of a common phone
# The page's width, each live explorer's, and the font sizes of its labels and numbers
# against the page's text.
WIDTHS_JS = """
const body = getComputedStyle(document.querySelector('main p, article p, body')).fontSize;
return {
  page: document.documentElement.scrollWidth,
  body: body,
  explorers: Array.from(document.querySelectorAll('.cn-explorer')).map((root) => ({
    name: root.dataset.explorer, live: root.querySelector('.cn-live:not([hidden])') !== null,
    scroll: root.scrollWidth, client: root.clientWidth,
    right: Math.max(...Array.from(root.querySelectorAll('*'))
      .filter((e) => e.getClientRects().length).map((e) => e.getBoundingClientRect().right)),
    sizes: Array.from(root.querySelectorAll('label, .cn-readout, .cn-q, output')).map(
      (e) => getComputedStyle(e).fontSize),
  })),
};
"""


def narrow_widths(driver, url: str) -> dict:
    """WIDTHS_JS on url loaded in a window NARROW pixels wide; the window comes back."""
    try:
        driver.set_window_size(NARROW, 900)
        load(driver, url, "return document.readyState === 'complete'")
        assert driver.execute_script("return window.innerWidth") == NARROW
        return driver.execute_script(WIDTHS_JS)
    finally:
        driver.set_window_size(1280, 1000)


def fits(widths: dict) -> list[str]:
    """What does not fit: the page wider than the window, an explorer wider than its
    column or reaching past the window, labels or numbers smaller than the text."""
    problems = [f"the page is {widths['page']} px wide"] * (widths["page"] > NARROW)
    for e in widths["explorers"]:
        if not e["live"]:
            problems.append(f"{e['name']} is not live")
        if e["scroll"] > e["client"] or e["right"] > NARROW:
            problems.append(f"{e['name']}: {e['scroll']} px in {e['client']}, to {e['right']}")
        small = sorted({s for s in e["sizes"] if s != widths["body"]})
        if small:
            problems.append(f"{e['name']}: text of {small}, the page's is {widths['body']}")
    return problems


def test_explorers_fit_a_narrow_window_in_the_page_font(tmp_path, browser):
    pytest.importorskip("matplotlib")
    widgets = pytest.importorskip("centernet_edu.widgets")
    explorers = [
        widgets.centre_explorer(),
        widgets.focal_loss_explorer(),
        widgets.focal_gradient_explorer(),
        widgets.offset_explorer(),
        widgets.size_explorer(),
        widgets.loss_weights_explorer(),
    ]
    explorer_page(tmp_path / "narrow.html", explorers)
    html = (tmp_path / "narrow.html").read_text()
    # A page's text at 16 px, as the book's theme sets it.
    (tmp_path / "narrow.html").write_text(html.replace("<body>", '<body style="font-size:16px">'))
    with serve(tmp_path) as url:
        widths = narrow_widths(browser, f"{url}/narrow.html")
    assert len(widths["explorers"]) == len(explorers)
    assert widths["body"] == "16px" and fits(widths) == []


def test_a_chapter_with_explorers_fits_a_narrow_window(explored, server, browser):
    # Every chapter with explorers, chapter 5 among them (prose, code, a figure and its
    # explorer): the prose must fit as well as the explorers (a long identifier in inline
    # code once pushed chapter 3 sideways).
    chapters = explorer_chapters()
    assert "05_size_loss" in chapters
    for page in chapters:
        widths = narrow_widths(browser, f"{server}/{page}.html")
        assert widths["explorers"] and fits(widths) == [], page
