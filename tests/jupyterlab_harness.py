"""A real JupyterLab, served from a temporary folder and driven in headless Chromium.

``serve_lab`` starts ``python -m jupyterlab`` (this environment's, so its kernel is the
environment's "python3") on 127.0.0.1 with a free port, a random token, and fresh Jupyter
data, config, runtime, settings and workspace folders: no notebook is trusted and no
user's settings leak in. A settings override turns the notebook's windowing off, so every
cell is in the page, not only those scrolled to, and keeps JupyterLab from asking to fetch
news. ``start_browser`` starts Chromium through ChromeDriver with the flags the book's
browser tests use.

The helpers below act as a student does (open a notebook, click into a cell and type,
Run > Run All Cells, Ctrl+S) and read what the page shows. Cells are addressed by their
index in the notebook file: with windowing off, the page holds one ``.jp-Cell`` per cell,
in order.

One thing the page cannot tell apart: JupyterLab 4 renders an error's traceback exactly
as it renders text on stderr (``.jp-RenderedText[data-mime-type=
"application/vnd.jupyter.stderr"]``, no other mark). ``error_outputs`` therefore reads
the output types from the notebook as saved.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

# Chromium starts as in the built book's browser suite: one list of flags.
from test_book_build import CHROMIUM_FLAGS
from test_book_build import SERVER_HOST as HOST

# JupyterLab's settings for every test: each cell in the page (no windowing), no news.
OVERRIDES = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
# Environment variables that would point JupyterLab at a user's own folders.
USER_PATHS = ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTERLAB_DIR")
# MyST roles: the built book replaces them, any other reader sees them raw.
RAW_ROLE = re.compile(r"\{(?:glue|cite)[^}\s]*\}?|\{(?:numref|ref|doc|eq|term|download)(?::\w+)?\}")
PROMPT = re.compile(r"\[(\d+|\*| )\]:")
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show
NOTEBOOK = f"{PANEL} .jp-Notebook"


def missing(what: str) -> None:
    """Skip for a missing tool, but fail under CI, which is expected to install it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing under CI (.ci/run installs it)")
    pytest.skip(f"{what} is missing")


# ---------------------------------------------------------------------------------------
# The server and the browser


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT/
    token: str
    root: Path  # the server's root_dir: notebooks are placed here
    log: Path

    def place(self, notebook: Path | dict, path: str) -> Path:
        """Copy a notebook (a file, or its JSON as a dict) to path under the root."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(notebook, dict):
            target.write_text(json.dumps(notebook, indent=1))
        else:
            shutil.copyfile(notebook, target)
        return target

    def notebook_url(self, path: str, workspace: str) -> str:
        """The URL that opens path in a workspace of its own (nothing restored)."""
        return f"{self.url}lab/workspaces/{quote(workspace)}/tree/{quote(path)}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _api(url: str, token: str, method: str = "GET", timeout: float = 5) -> int:
    request = urllib.request.Request(
        url, method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


@contextlib.contextmanager
def serve_lab(base: Path, timeout: float = 90.0):
    """Serve JupyterLab from base/root; yield a Lab. Stops the server and its kernels."""
    if importlib.util.find_spec("jupyterlab") is None:
        missing("jupyterlab (pip install -e '.[test]')")
    folders = {
        name: base / name
        for name in ("root", "data", "config", "runtime", "settings", "user-settings", "ipython")
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    (folders["settings"] / "overrides.json").write_text(json.dumps(OVERRIDES, indent=1))
    env = {k: v for k, v in os.environ.items() if k not in USER_PATHS}
    env.update(
        JUPYTER_DATA_DIR=str(folders["data"]),  # nbsignatures.db: nothing trusted
        JUPYTER_CONFIG_DIR=str(folders["config"]),
        JUPYTER_RUNTIME_DIR=str(folders["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(folders["user-settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(folders["user-settings"] / "workspaces"),
        IPYTHONDIR=str(folders["ipython"]),
    )
    token = secrets.token_hex(24)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        f"--ServerApp.ip={HOST}",
        "--ServerApp.port=0",  # a free port, read back from the runtime folder
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folders['root']}",
        f"--LabApp.app_settings_dir={folders['settings']}",  # overrides.json
        "--LabApp.news_url=None",
    ]
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    lab = None
    try:
        deadline = time.monotonic() + timeout
        info = folders["runtime"] / f"jpserver-{process.pid}.json"
        while lab is None:
            if process.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"JupyterLab did not start ({process.returncode}):\n{text}")
            if info.exists():
                with contextlib.suppress(ValueError, OSError, urllib.error.URLError):
                    url = json.loads(info.read_text())["url"]
                    if _api(f"{url}api/status", token) == 200:
                        lab = Lab(url=url, token=token, root=folders["root"], log=log)
            time.sleep(0.2)
        yield lab
    finally:
        _stop(process, lab)


def _stop(process: subprocess.Popen, lab: Lab | None) -> None:
    """Ask the server to shut down (its kernels first), then terminate, then kill it."""
    grace = 0
    if lab is not None:
        with contextlib.suppress(OSError, urllib.error.URLError):
            _api(f"{lab.url}api/shutdown", lab.token, method="POST")
            grace = 30
    for stop, wait in ((None, grace), (process.terminate, 10), (process.kill, None)):
        if stop is not None:
            stop()
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass


def start_browser():
    """Headless Chromium through ChromeDriver, as the book's browser tests start it."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        missing("chromium or chromedriver (apt-get install chromium chromium-driver)")
    if importlib.util.find_spec("selenium") is None:
        missing("selenium (pip install -e '.[test]')")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(60)
    return driver


# ---------------------------------------------------------------------------------------
# Waiting and reading the page


def wait_for(condition, timeout: float, what: str, interval: float = 0.25):
    """Poll condition() until it returns something true; return it, or fail saying what."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


KERNEL_JS = """
const bar = Array.from(document.querySelectorAll('.jp-StatusBar-Item'))
  .map((e) => e.textContent).find((t) => / \\| \\w+$/.test(t));
const indicator = document.querySelector(arguments[0]);
return [bar || '', indicator ? indicator.getAttribute('data-status') : null];
"""


def kernel_status(driver) -> tuple[str, str | None]:
    """The status bar's kernel item ('Python 3 (ipykernel) | Idle'; 'No Kernel | ...'
    until a kernel is there) and the toolbar's kernel indicator ('idle', 'busy'...)."""
    bar, indicator = driver.execute_script(KERNEL_JS, f"{PANEL} .jp-Notebook-ExecutionIndicator")
    return bar, indicator


def kernel_idle(driver) -> bool:
    """Whether the notebook has a kernel, connected and idle. (The toolbar alone says
    'idle' for a moment before the kernel starts, the status bar says 'No Kernel'.)"""
    bar, indicator = kernel_status(driver)
    return indicator == "idle" and bar.endswith(" | Idle") and not bar.startswith("No Kernel")


def dialogs(driver) -> list[str]:
    """The text of any modal dialog (a kernel picker, an error) JupyterLab shows."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.jp-Dialog')).map((d) => d.innerText);"
    )


def wait_idle(driver, timeout: float = 120.0, settle: float = 1.0) -> None:
    """Wait until the kernel has been idle for settle seconds (a kernel connecting goes
    idle, unknown, idle); fail at once if JupyterLab shows a dialog."""
    since = [None]

    def idle():
        shown = dialogs(driver)
        if shown:
            raise AssertionError(f"JupyterLab shows a dialog: {shown}")
        if not kernel_idle(driver):
            since[0] = None
            return False
        since[0] = since[0] or time.monotonic()
        return time.monotonic() - since[0] >= settle

    try:
        wait_for(idle, timeout, "the kernel to be idle")
    except TimeoutError as error:
        raise TimeoutError(f"{error}; the page shows {kernel_status(driver)}") from None


def cells(driver) -> list:
    """The open notebook's cells (WebElements), in notebook order."""
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, f"{NOTEBOOK} .jp-Cell")


def open_notebook(driver, lab: Lab, path: str, workspace: str, timeout: float = 120.0) -> dict:
    """Open path (under lab.root) in a fresh workspace; wait until every cell is in the
    page and the kernel is idle. Returns the notebook as read from its file."""
    notebook = json.loads((lab.root / path).read_text())
    driver.get(lab.notebook_url(path, workspace))
    expected = len(notebook["cells"])
    wait_for(
        lambda: len(cells(driver)) == expected,
        timeout,
        f"{expected} cells of {path} in the page (windowing off?)",
    )
    wait_for(
        lambda: driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0] + ' .jp-MarkdownCell'))"
            ".every((c) => (c.querySelector('.jp-RenderedMarkdown') || {}).firstChild);",
            NOTEBOOK,
        ),
        timeout,
        "every markdown cell to be rendered",
    )
    wait_idle(driver, timeout)
    return notebook


def trust_status(driver) -> str:
    """The status bar's trust item, e.g. 'Notebook not trusted: 0 of 42 code cells trusted.'"""
    return driver.execute_script(
        "const e = document.querySelector('.jp-StatusItem-trust'); return e ? e.title : '';"
    )


def cell_source(driver, index: int) -> str:
    """The text in cell index's editor, line by line as CodeMirror shows it."""
    return driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.cm-line'))"
        ".map((l) => l.textContent).join('\\n');",
        cells(driver)[index],
    )


def prompts(driver) -> dict[int, str]:
    """Each code cell's execution count as shown: a number, '*' (queued or running) or ''."""
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' .jp-Cell')).map((c) =>"
        " c.classList.contains('jp-CodeCell') ?"
        " (c.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent : null);",
        NOTEBOOK,
    )
    counts = {}
    for index, text in enumerate(shown):
        if text is not None:
            match = PROMPT.search(text)
            counts[index] = match.group(1).strip() if match else ""
    return counts


def outputs(driver, index: int) -> list[tuple[str, str]]:
    """Cell index's outputs as shown: (data-mime-type, visible text) each."""
    shown = driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.jp-OutputArea-output'))"
        ".map((o) => [o.getAttribute('data-mime-type') || '', o.innerText]);",
        cells(driver)[index],
    )
    return [(mime, text) for mime, text in shown]


def raw_roles(driver) -> list[tuple[int, str]]:
    """(cell index, excerpt) for each raw MyST role in the visible text of rendered
    markdown cells."""
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' .jp-Cell')).map((c) => {"
        "  const r = c.classList.contains('jp-MarkdownCell') &&"
        "    c.querySelector('.jp-RenderedMarkdown');"
        "  return r ? r.innerText : null; });",
        NOTEBOOK,
    )
    found = []
    for index, text in enumerate(texts):
        for match in RAW_ROLE.finditer(text or ""):
            start = max(0, match.start() - 40)
            found.append((index, " ".join(text[start : match.end() + 40].split())))
    return found


PICTURES_JS = """
const cell = arguments[0];
return Array.from(cell.querySelectorAll('.cn-explorer')).map((root) =>
  Array.from(root.querySelectorAll('img.cn-picture')).map((img) => {
    const box = img.getBoundingClientRect();
    return {
      complete: img.complete,
      naturalWidth: img.naturalWidth,
      width: box.width,
      height: box.height,
      visible: img.checkVisibility({opacityProperty: true, visibilityProperty: true})
        && box.width > 0 && box.height > 0,
    };
  }));
"""


def explorer_pictures(driver, index: int, timeout: float = 15.0) -> list[list[dict]]:
    """For each ``.cn-explorer`` in cell index's outputs, its ``img.cn-picture``s: whether
    each is visible and its natural width. The cell is scrolled into view first (as a
    reader would) and its pictures given time to load."""
    cell = cells(driver)[index]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)

    def loaded():
        found = driver.execute_script(PICTURES_JS, cell)
        return (found,) if all(p["complete"] for e in found for p in e) else None

    try:
        return wait_for(loaded, timeout, f"the pictures of cell {index} to load")[0]
    except TimeoutError:
        return driver.execute_script(PICTURES_JS, cell)  # those not loaded say so


def explorer_cells(notebook: dict) -> list[int]:
    """Indices of the code cells whose saved outputs hold an explorer."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            if "cn-explorer" in ("".join(html) if isinstance(html, list) else html):
                found.append(index)
                break
    return found


def tagged(notebook: dict, tag: str, defines: str | None = None) -> list[int]:
    """Indices of the cells tagged tag (and whose source defines a function, if given)."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        if tag in cell.get("metadata", {}).get("tags", []) and (
            defines is None or re.search(rf"^def {re.escape(defines)}\(", source, re.M)
        ):
            found.append(index)
    return found


def error_outputs(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, 'ename: evalue') of every error output in a notebook's JSON."""
    return [
        (index, f"{output.get('ename')}: {output.get('evalue')}")
        for index, cell in enumerate(notebook["cells"])
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


# ---------------------------------------------------------------------------------------
# Acting


def type_into_cell(driver, index: int, text: str) -> str:
    """Click into cell index's editor, select all, type text, leave the editor (Escape).
    Returns what landed in the editor (CodeMirror may indent or close brackets)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cell = cells(driver)[index]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
    cell.find_element(By.CSS_SELECTOR, ".cm-content").click()
    wait_for(
        lambda: driver.execute_script(
            "return arguments[0].contains(document.activeElement);", cell
        ),
        10,
        f"the editor of cell {index} to take the focus",
    )
    keys = ActionChains(driver)
    keys.key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(text)
    keys.perform()
    landed = cell_source(driver, index)
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    return landed


def click_menu(driver, menu: str, item: str) -> None:
    """Click a menu of the menu bar, then one of its items, by their labels."""
    from selenium.webdriver.common.by import By

    driver.find_element(
        By.XPATH, f"//div[contains(@class, 'lm-MenuBar-itemLabel') and text()='{menu}']"
    ).click()
    wait_for(
        lambda: driver.find_elements(
            By.XPATH,
            "//li[contains(@class, 'lm-Menu-item')]"
            f"[.//div[contains(@class, 'lm-Menu-itemLabel') and text()='{item}']]",
        ),
        10,
        f"the item {item!r} of the {menu} menu",
    )[0].click()


# Records whether any code cell's prompt shows '*' (queued or running) from now on.
WATCH_PROMPTS_JS = """
const nb = document.querySelector(arguments[0]);
const busy = () => Array.from(nb.querySelectorAll('.jp-InputPrompt'))
  .some((p) => p.textContent.includes('*'));
window.cnSawBusy = busy();
if (window.cnWatch) window.cnWatch.disconnect();
window.cnWatch = new MutationObserver(() => { if (busy()) window.cnSawBusy = true; });
window.cnWatch.observe(nb, {subtree: true, childList: true, characterData: true});
"""


def run_all(driver, timeout: float = 600.0) -> dict[int, str]:
    """Run > Run All Cells; wait until the run is over: the kernel idle and no cell queued
    (JupyterLab stops at the first error, leaving the cells after it unrun). Returns
    each code cell's execution count as shown (see ``prompts``)."""
    driver.execute_script(WATCH_PROMPTS_JS, NOTEBOOK)
    click_menu(driver, "Run", "Run All Cells")

    def over():
        counts = prompts(driver)
        started = driver.execute_script("return window.cnSawBusy;")
        return started and kernel_idle(driver) and "*" not in counts.values() and counts

    try:
        return wait_for(over, timeout, "Run All Cells to finish", interval=1.0)
    except TimeoutError as error:
        started = driver.execute_script("return window.cnSawBusy;")
        raise TimeoutError(
            f"{error}; the run {'started' if started else 'never started'}, the kernel "
            f"shows {kernel_status(driver)}, the prompts {prompts(driver)}"
        ) from None
    finally:
        driver.execute_script("window.cnWatch.disconnect();")


def save(driver, lab: Lab, path: str, timeout: float = 30.0) -> dict:
    """Ctrl+S in the notebook; wait until the file changes; return it as saved."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    file = lab.root / path
    before = file.stat().st_mtime_ns
    keys = ActionChains(driver)
    keys.key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()

    def saved():
        if file.stat().st_mtime_ns == before:
            return None
        with contextlib.suppress(ValueError):
            return json.loads(file.read_text())

    return wait_for(saved, timeout, f"{path} to be saved")


def screenshots(driver, folder: Path, stage: str, limit: int = 80) -> list[Path]:
    """Screenshots of the whole notebook, one viewport at a time from the top:
    folder/STAGE-00.png, STAGE-01.png... (older shots of the stage are removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{stage}-*.png"):
        old.unlink()
    scroller = f"{NOTEBOOK} .jp-WindowedPanel-outer"
    height, total = driver.execute_script(
        "const s = document.querySelector(arguments[0]); return [s.clientHeight, s.scrollHeight];",
        scroller,
    )
    step = max(1, int(height * 0.9))
    tops = list(range(0, max(0, total - height) + 1, step))[:limit]
    shots = []
    for k, top in enumerate(tops):
        driver.execute_async_script(
            "const [sel, top, done] = arguments;"
            "document.querySelector(sel).scrollTop = top;"
            "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            scroller,
            top,
        )
        shot = folder / f"{stage}-{k:02d}.png"
        driver.save_screenshot(str(shot))
        shots.append(shot)
    return shots


def screenshot_of_cell(driver, index: int, path: Path) -> Path:
    """One screenshot with cell index in the middle of the view."""
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cells(driver)[index])
    driver.save_screenshot(str(path))
    return path


def picture_problems(pictures: dict[int, list[list[dict]]]) -> list[str]:
    """What is wrong with the explorers' static pictures (``explorer_pictures`` of each
    explorer cell): each explorer needs an ``img.cn-picture``, each one visible and loaded."""
    problems = []
    for index, explorers in pictures.items():
        if not explorers:
            problems.append(f"cell {index}: its saved output has an explorer, the page none")
        for k, found in enumerate(explorers):
            where = f"cell {index}, explorer {k}"
            if not found:
                problems.append(f"{where}: no img.cn-picture")
            for picture in found:
                if not picture["visible"]:
                    problems.append(f"{where}: img.cn-picture not visible ({picture})")
                elif picture["naturalWidth"] <= 0:
                    problems.append(f"{where}: img.cn-picture did not load ({picture})")
    return problems


def run_cell(driver, index: int, timeout: float = 120.0) -> list[tuple[str, str]]:
    """Select cell index (a click on its prompt) and press Shift+Enter, as a student runs
    one cell; wait until it has run and the kernel is idle. Returns its outputs as shown."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cell = cells(driver)[index]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
    before = prompts(driver).get(index, "")
    cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
    keys = ActionChains(driver)
    keys.key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()

    def ran():
        count = prompts(driver).get(index, "")
        return count.isdigit() and count != before and kernel_idle(driver)

    wait_for(ran, timeout, f"cell {index} to run")
    return outputs(driver, index)


# An explorer shown as a widget (widget.js marks its element), not as self-contained HTML.
WIDGET = ".cn-widget .cn-explorer"
WIDGET_JS = """
const root = arguments[0].querySelector(arguments[1]);
if (!root) return null;
const inputs = {};
root.querySelectorAll('.cn-controls input, .cn-controls select').forEach((e) => {
  const readout = e.parentNode.querySelector('.cn-readout');
  inputs[e.name] = {value: e.value, readout: readout ? readout.textContent : null};
});
const numbers = {};
root.querySelectorAll('.cn-numbers output').forEach((o) => {
  numbers[o.getAttribute('name')] = o.textContent;
});
const sections = Array.from(root.querySelectorAll('.cn-yours-section')).map((s) => ({
  role: s.getAttribute('data-role'),
  title: (s.querySelector('.cn-yours-title') || {}).textContent || '',
  error: (s.querySelector('.cn-yours-error') || {}).textContent || '',
  lines: s.querySelectorAll('polyline.cn-yours-line').length,
  rows: Array.from(s.querySelectorAll('tr')).slice(1).map((tr) => {
    const cell = (name) => tr.querySelector('.cn-yours-' + name);
    const value = (name) => {
      const v = cell(name) && cell(name).getAttribute('data-value');
      return v === null ? null : v;
    };
    return {
      label: cell('label').textContent,
      package: value('package'), yours: value('yours'),
      package_text: cell('package').textContent, yours_text: cell('yours').textContent,
      disagree: tr.classList.contains('cn-disagree'),
      first: tr.classList.contains('cn-first-disagreement'),
    };
  }),
}));
return {inputs, numbers, sections};
"""


def widget_state(driver, index: int) -> dict | None:
    """The live explorer widget in cell index's outputs: its controls (value and
    readout), its numbers as shown, and each student function's section (its title, error,
    plotted lines and table rows, values as ``data-value`` holds them); None if none."""
    return driver.execute_script(WIDGET_JS, cells(driver)[index], WIDGET)


def move_slider(driver, index: int, name: str, presses: int = 2) -> None:
    """Move the slider ``name`` of the explorer in cell index as a reader does: a click
    on it (which sets it where it was clicked), then ArrowRight ``presses`` times."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cell = cells(driver)[index]
    slider = cell.find_element(By.CSS_SELECTOR, f"{WIDGET} input[name='{name}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
    slider.click()
    ActionChains(driver).send_keys(*([Keys.ARROW_RIGHT] * presses)).perform()
