"""Execute chapters top to bottom as Colab does: a fresh kernel, no book tooling, the
package installed by the chapter's own install cell.

What makes a run Colab-like:

- the kernel's Python has the package's runtime dependencies and what Colab preinstalls
  (matplotlib, ipykernel), and nothing of the ``book`` extra (no myst_nb, jupyter_book,
  nbval). That environment is a virtual environment, ``.venv-colab/`` (ignored by git;
  ``COLAB_VENV`` names another folder), created on first use and reused while what it
  was created from (``pyproject.toml``'s requirements, the torch pin ``TORCH_SPEC``,
  the Python) is unchanged;
- each chapter gets a fresh site on top of it: an empty virtual environment whose
  ``.pth`` file adds ``.venv-colab``'s packages, so what the install cell installs goes
  into that chapter's site, which is thrown away afterwards (``.venv-colab`` itself is
  never changed by a run, and runs side by side do not disturb each other);
- a stand-in ``google.colab`` module, imported at kernel start-up by an IPython startup
  file, as Colab's kernel does, so ``"google.colab" in sys.modules`` and the install
  cell installs;
- the install cell (the chapter's first code cell, which pip-installs
  ``git+https://github.com/OWNER/NAME@COMMIT`` on Colab, the URL from ``repository.url``
  of ``book/_config.yml``) is pointed at this clone: the URL becomes ``file://ROOT``, the
  commit is kept, so pip clones this clone's own history and installs that commit (one
  that does not exist fails the cell). The URL may stand in the package string or in a
  string of its own (``REPOSITORY = "..."``, the commit in ``COMMIT = "..."``);
- the chapter runs from a temporary copy in a temporary working folder.

A cell inserted before the install cell checks that the package is not importable yet,
that ``myst_nb`` is not, and that ``google.colab`` is imported; one appended at the end
checks that the chapter used the package the install cell put in the chapter's site, at
the pinned commit. After the run, every cell tagged ``exercise`` (a stub) must be
followed by a checker cell that says "not yet", and no output may hold a raw ``{glue``.

    python tools/colab_run.py                      # every chapter
    python tools/colab_run.py book/03_focal_loss.ipynb
    python tools/colab_run.py --keep DIR book/07_training.ipynb   # keep the executed copy

``tests/test_colab_run.py`` runs chapters 1, 3 and 7 this way (``COLAB_CHAPTERS=all``, as
``make test-full`` sets it, all of them).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import nbformat
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
VENV = Path(os.environ.get("COLAB_VENV") or ROOT / ".venv-colab")
# torch first, pinned to the CPU build, as the Makefile does.
TORCH_SPEC = os.environ.get("TORCH_SPEC") or "torch==2.13.0"
# Colab's pip is recent; an old one (23.2) cannot read the install cell's
# "centernet-edu[explorers] @ git+file:///..." when the URL has no host, as here.
PIP_SPEC = "pip>=24"
# What Colab preinstalls beyond the package's own runtime dependencies (numpy, torch,
# pillow, tqdm and pycocotools are among those), with the ranges the extras give them
# (matplotlib's in `plot`, ipykernel's in `book`).
COLAB_EXTRAS = ("matplotlib", "ipykernel")
# And what Colab preinstalls at its own version, which the chapters must keep: its
# ipywidgets, imported as its kernel starts (the explorers extra accepts it).
COLAB_PINNED = ("ipywidgets==7.7.1",)
# The book's tooling, which Colab does not have and the chapters must run without.
NOT_ON_COLAB = ("myst_nb", "jupyter_book", "nbval")
CELL_TIMEOUT = 1800  # seconds; chapter 7 trains for a few minutes on two CPU cores
KERNEL_NAME = "colab-like"
CHECK_TAG = "colab-run-check"
# The commit an install cell pins: 40 hex digits, alone.
COMMIT = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{40}(?![0-9A-Za-z])")

# The stand-in for Colab's google.colab: the package and the little API a chapter might
# call, each call recorded in google.colab.calls.
GOOGLE_INIT = '''\
"""Stand-in for the google namespace on Colab (other google.* packages stay importable)."""
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
'''
COLAB_INIT = '''\
"""Stand-in for Colab's google.colab, for running the chapters as on Colab."""
calls = []  # (function, args, kwargs) of every call into the stand-in


def _record(name, *args, **kwargs):
    calls.append((name, args, kwargs))


from . import output  # noqa: E402  (Colab's google.colab imports its submodules too)
'''
COLAB_OUTPUT = '''\
"""Stand-in for google.colab.output: the widget manager switches, recorded. As on Colab,
_widgets._installed_url names the custom widget manager once it is on (anywidget reads
it to tell Colab where the manager is)."""
import types

from . import _record

_widgets = types.SimpleNamespace(_installed_url=None)


def enable_custom_widget_manager():
    _record("output.enable_custom_widget_manager")
    _widgets._installed_url = "stand-in://custom-widget-manager"


def disable_custom_widget_manager():
    _record("output.disable_custom_widget_manager")
    _widgets._installed_url = None


def clear(*args, **kwargs):
    _record("output.clear", *args, **kwargs)
'''
STARTUP = "import google.colab  # as Colab's kernel does at start-up\n"

PRE_CHECK = """\
# Inserted by tools/colab_run.py: the kernel is Colab-like before the install cell runs.
import importlib.util as _util
import sys as _sys

assert "google.colab" in _sys.modules, "the stand-in google.colab was not imported at start-up"
assert _sys.prefix == {prefix!r}, f"the kernel runs in {{_sys.prefix}}, not the chapter's site"
assert _util.find_spec("centernet_edu") is None, (
    f"centernet_edu is importable before the install cell: {{_util.find_spec('centernet_edu').origin}}"
)
for _name in {not_on_colab!r}:
    try:
        __import__(_name)
    except ImportError:
        pass
    else:
        raise AssertionError(f"{{_name}} is importable: Colab does not have it")
del _util, _sys, _name
"""
POST_CHECK = """\
# Inserted by tools/colab_run.py: the chapter used what its install cell installed.
import importlib.metadata as _metadata
import json as _json
import sys as _sys

_module = _sys.modules.get("centernet_edu")
assert _module is not None, "the chapter never imported centernet_edu"
assert _module.__file__.startswith({site!r}), (
    f"centernet_edu came from {{_module.__file__}}, not from the install cell's {site!r}"
)
_url = _json.loads(_metadata.distribution("centernet-edu").read_text("direct_url.json"))
assert _url["url"] == {url!r} and _url["vcs_info"]["commit_id"] == {commit!r}, _url
print("centernet_edu", _url["vcs_info"]["commit_id"], "from", _module.__file__)
# The explorers are widgets: Colab shows them once its custom widget manager is on, and
# the install kept what Colab had installed.
_calls = _sys.modules["google.colab"].calls
assert ("output.enable_custom_widget_manager", (), {{}}) in _calls, _calls
for _name, _version in (_spec.split("==") for _spec in {pinned!r}):
    assert _metadata.version(_name) == _version, (_name, _metadata.version(_name), _version)
print("widgets: the custom widget manager on,", ", ".join({pinned!r}), "kept")
del _metadata, _json, _sys, _module, _url, _calls, _name, _version
"""


class ColabRunError(AssertionError):
    """A chapter that does not run as on Colab, or a check it fails."""


def chapters(book: Path = BOOK) -> list[Path]:
    return sorted(book.glob("[0-9]*.ipynb"))


def repository_url(book: Path = BOOK) -> str:
    """``repository.url`` of ``book/_config.yml``: the install cell's URL."""
    config = yaml.safe_load((book / "_config.yml").read_text()) or {}
    return str((config.get("repository") or {}).get("url", "")).rstrip("/")


# The environment --------------------------------------------------------------------


def requirements(root: Path = ROOT) -> list[str]:
    """What the Colab-like environment holds, pip and torch's pin first: the package's
    runtime dependencies and what Colab preinstalls (``COLAB_EXTRAS``, with the extras'
    ranges, and ``COLAB_PINNED`` at Colab's versions), nothing else."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    runtime = [r for r in project["dependencies"] if _name(r) != "torch"]
    ranges = {_name(r): r for extra in project["optional-dependencies"].values() for r in extra}
    extras = [ranges.get(name, name) for name in COLAB_EXTRAS]
    return [PIP_SPEC, TORCH_SPEC, *runtime, *extras, *COLAB_PINNED]


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _site(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created), across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def preinstalled(specs: list[str], site: str) -> tuple[list, list[str]]:
    """What of ``specs`` the environment at ``site`` already holds, as Colab holds what it
    preinstalls: the distributions that satisfy them and everything those need (extras
    and markers evaluated), and the specs it lacks or holds at a version outside range."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    dists = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions(path=[site])}
    todo = [(Requirement(s), s) for s in specs]
    todo = [(r, s) for r, s in todo if r.marker is None or r.marker.evaluate({"extra": ""})]
    found, missing = {}, []
    while todo:
        req, spec = todo.pop()
        name = canonicalize_name(req.name)
        if name in found:
            continue
        dist = dists.get(name)
        if dist is None or dist.files is None or not req.specifier.contains(dist.version, True):
            missing.append(spec or str(req))
            continue
        found[name] = dist
        for line in dist.requires or []:
            need = Requirement(line)
            extras = ("", *req.extras)
            if need.marker is None or any(need.marker.evaluate({"extra": e}) for e in extras):
                todo.append((need, ""))
    return list(found.values()), missing


def link_distributions(dists: list, site: str) -> int:
    """Hard-link (copy, across file systems) into ``site`` every file the distributions'
    RECORDs list under their site-packages; the number of files."""
    count = 0
    for dist in dists:
        for file in dist.files:
            source = Path(dist.locate_file(file))
            if ".." in file.parts or not source.is_file():
                continue  # scripts in bin/, and files RECORD names but pip left out
            target = Path(site, file)
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
            count += 1
    return count


def _pip_would_install(python: Path, specs: list[str]) -> dict[str, str]:
    """What ``pip install specs`` would add to ``python``'s environment: name, version."""
    out = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--dry-run", "--report", "-", *specs],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        i["metadata"]["name"]: i["metadata"]["version"] for i in json.loads(out.stdout)["install"]
    }


def ensure_environment(venv: Path = VENV, log=print, seed: str | None = None) -> Path:
    """The Colab-like virtual environment ``venv``, created unless it already holds
    ``requirements()`` for this Python; its Python.

    Colab's packages are preinstalled, so they need not be downloaded and unpacked: the
    distributions ``seed`` (this Python's site-packages) holds in range, and the ones pip
    would add for ``COLAB_PINNED`` at the versions it picks, are hard-linked in from
    there. pip installs the rest."""
    seed = seed or sysconfig.get_path("purelib")
    stamp = {
        "python": sys.version,
        "base": getattr(sys, "_base_executable", sys.executable),
        "requirements": requirements(),
    }
    stamp_file = venv / ".colab-stamp.json"
    with _locked(venv.with_name(venv.name + ".lock")):
        with contextlib.suppress(OSError, ValueError):
            if _python(venv).exists() and json.loads(stamp_file.read_text()) == stamp:
                return _python(venv)
        start = time.perf_counter()
        log(f"creating the Colab-like environment {venv} ({', '.join(stamp['requirements'])})")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        python, site = _python(venv), _site(_python(venv))
        wanted, pinned = stamp["requirements"][1 : -len(COLAB_PINNED)], list(COLAB_PINNED)
        dists, missing = preinstalled(wanted, seed)
        linked = link_distributions(dists, site)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        bootstrap = [sys.executable, "-m", "pip", "--python", str(python), *pip[3:]]
        subprocess.run([*bootstrap, stamp["requirements"][0]], check=True)
        # torch alone first: the pin decides the build before anything can pull another.
        torch = [r for r in missing if _name(r) == "torch"]
        for group in (torch, [r for r in missing if r not in torch]):
            if group:
                subprocess.run([*pip, *group], check=True)
        # What pip would add for Colab's pins, linked where the seed holds that very version.
        versions = {_name(n): v for n, v in _pip_would_install(python, pinned).items()}
        same = [
            d
            for d in metadata.distributions(path=[seed])
            if d.files is not None and versions.get(_name(d.metadata["Name"])) == d.version
        ]
        linked += link_distributions(same, site)
        subprocess.run([*pip, *pinned], check=True)
        stamp_file.write_text(json.dumps(stamp, indent=1) + "\n")
        seconds = time.perf_counter() - start
        log(f"created {venv} in {seconds:.0f} s, {linked} files linked from {seed}")
    return _python(venv)


def chapter_site(base: Path, where: Path) -> tuple[Path, str]:
    """A fresh virtual environment in ``where`` that sees ``base``'s packages (a ``.pth``
    file adds its site-packages after its own) and installs into its own: its Python
    and its site-packages."""
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(where)], check=True)
    python = _python(where)
    site = _site(python)
    line = f"import site; site.addsitedir({_site(base)!r})\n"
    Path(site, "_colab_like_base.pth").write_text(line)
    return python, site


def write_google_colab(folder: Path) -> Path:
    """The stand-in ``google.colab`` package in ``folder`` (put it on PYTHONPATH)."""
    colab = folder / "google" / "colab"
    colab.mkdir(parents=True, exist_ok=True)
    (folder / "google" / "__init__.py").write_text(GOOGLE_INIT)
    (colab / "__init__.py").write_text(COLAB_INIT)
    (colab / "output.py").write_text(COLAB_OUTPUT)
    return folder


def kernel_environment(python: Path, stubs: Path, ipython_dir: Path, pip_cache: Path) -> dict:
    """The kernel's environment variables: this process's, without its virtual
    environment, its Python path or book settings, with the chapter's site first on PATH,
    the stand-in on PYTHONPATH and an IPython folder whose startup file imports it."""
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-google-colab.py").write_text(STARTUP)
    drop = {"VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "JUPYTER_PATH"}
    drop |= {"IPYTHONDIR", "MPLBACKEND", "PYTHONNOUSERSITE", "PYTHONSAFEPATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    ours = Path(sys.prefix) / "bin"
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != ours]
    env.update(
        PATH=os.pathsep.join([str(python.parent), *path]),
        PYTHONPATH=str(stubs),
        IPYTHONDIR=str(ipython_dir),
        PYTHONNOUSERSITE="1",
        # a fresh pip cache, as on a fresh Colab machine: the install cell clones and builds
        PIP_CACHE_DIR=str(pip_cache),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


# The notebook -----------------------------------------------------------------------


@dataclass
class Prepared:
    notebook: nbformat.NotebookNode
    commit: str  # the pinned commit, as the chapter has it
    url: str  # what the install cell installs from here: git+file://ROOT


def _url(repository: str) -> re.Pattern:
    """The repository's URL inside the install cell: in ``"git+URL@COMMIT"`` (one
    string) or ``"URL"`` (a string of its own, the commit in another)."""
    return re.compile(r'(?<=["+])' + re.escape(repository) + r'(?=[@"])')


def install_cell(nb, repository: str) -> int:
    """The index of the chapter's install cell: its first code cell, which installs only
    on Colab, from ``repository`` (once) at one pinned 40-hex commit."""
    first = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    source = "" if first is None else nb.cells[first].source
    found = {
        "the Colab test": source.count('"google.colab" in sys.modules'),
        f"the URL {repository}": len(_url(repository).findall(source)),
        "a 40-hex commit": len(COMMIT.findall(source)),
    }
    wrong = [f"{what} {n} times" for what, n in found.items() if n != 1]
    if wrong:
        raise ColabRunError(
            "the first code cell is not an install cell that installs on Colab from "
            f"{repository} at one pinned commit ({', '.join(wrong)}):\n{source}"
        )
    return first


def prepare(nb, root: Path = ROOT, book: Path = BOOK, prefix: str = "", site: str = "") -> Prepared:
    """The chapter ``nb`` (changed in place) with its install cell pointed at ``root``'s
    clone (``https://github.com/OWNER/NAME`` becomes ``file://ROOT``, the commit kept),
    and the check cells around it."""
    repository = repository_url(book)
    i = install_cell(nb, repository)
    cell = nb.cells[i]
    (commit,) = COMMIT.findall(cell.source)
    local = root.resolve().as_uri()
    cell.source = _url(repository).sub(lambda _: local, cell.source, count=1)

    def check(source: str):
        return nbformat.v4.new_code_cell(source, metadata={"tags": [CHECK_TAG]})

    nb.cells.insert(i, check(PRE_CHECK.format(prefix=prefix, not_on_colab=NOT_ON_COLAB)))
    post = POST_CHECK.format(site=site, url=local, commit=commit, pinned=COLAB_PINNED)
    nb.cells.append(check(post))
    return Prepared(nb, commit, f"git+{local}")


def _text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join([output.get("ename", ""), output.get("evalue", "")])
    data = output.get("data", {})
    return "\n".join(
        v if isinstance(v, str) else "".join(v) for k, v in data.items() if "text" in k
    )


def cell_text(cell) -> str:
    return "".join(_text(o) for o in cell.get("outputs", []))


def check_outputs(nb) -> list[str]:
    """What is wrong with the executed chapter ``nb``: an exercise stub not followed by
    a checker that says "not yet", an output with a raw ``{glue``."""
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code" and CHECK_TAG not in _tags(c)]
    for i, cell in enumerate(code):
        if "exercise" in _tags(cell):
            name = _first_line(cell)
            checker = code[i + 1] if i + 1 < len(code) else None
            if checker is None or "not yet" not in cell_text(checker):
                said = (
                    "there is none"
                    if checker is None
                    else f"{_first_line(checker)!r} printed {cell_text(checker)[:200]!r}"
                )
                problems.append(
                    f"the exercise stub {name!r} is not followed by a checker that says "
                    f"'not yet' (the next code cell: {said})"
                )
        if "{glue" in cell_text(cell):
            problems.append(f"a raw {{glue in the output of the cell {_first_line(cell)!r}")
    return problems


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _first_line(cell) -> str:
    return next((line for line in cell.source.splitlines() if line.strip()), "")[:80]


# A run ------------------------------------------------------------------------------


@dataclass
class Run:
    chapter: Path
    executed: Path  # the executed copy
    commit: str
    seconds: float
    cell_seconds: list[tuple[float, str]] = field(default_factory=list)  # slowest first


def run_chapter(
    chapter: Path,
    workdir: Path,
    base: Path | None = None,
    root: Path = ROOT,
    book: Path = BOOK,
    timeout: int = CELL_TIMEOUT,
) -> Run:
    """Execute ``chapter`` as on Colab in ``workdir`` (a fresh folder); raise
    ``nbclient.exceptions.CellExecutionError`` when a cell fails, ``ColabRunError`` when a
    check does."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    base = base or ensure_environment()
    workdir.mkdir(parents=True, exist_ok=True)
    python, site = chapter_site(base, workdir / "site")
    stubs = write_google_colab(workdir / "stubs")
    env = kernel_environment(python, stubs, workdir / "ipython", workdir / "pip-cache")
    kernels = workdir / "kernels"
    spec = kernels / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Colab-like", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))

    run_dir = workdir / "content"  # where the chapter runs, as /content on Colab
    run_dir.mkdir(exist_ok=True)
    nb = nbformat.read(chapter, as_version=4)
    prepared = prepare(nb, root, book, prefix=str(workdir / "site"), site=site)
    executed = run_dir / chapter.name
    nbformat.write(nb, executed)

    km = KernelManager(
        kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        resources={"metadata": {"path": str(run_dir)}},
        store_widget_state=False,
        record_timing=True,
    )
    start = time.perf_counter()
    try:
        client.execute(env=env)
    finally:
        nbformat.write(nb, executed)  # what ran, errors included, for a look afterwards
    seconds = time.perf_counter() - start
    problems = check_outputs(nb)
    if problems:
        raise ColabRunError(f"{chapter.name}:\n- " + "\n- ".join(problems))
    return Run(chapter, executed, prepared.commit, seconds, _cell_seconds(nb))


def _cell_seconds(nb) -> list[tuple[float, str]]:
    """(seconds, first line) of each executed cell, slowest first."""
    from datetime import datetime

    def at(stamp: str) -> datetime:
        return datetime.fromisoformat(stamp.rstrip("Z"))

    times = []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            times.append(((at(end) - at(start)).total_seconds(), _first_line(cell)))
    return sorted(times, reverse=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="tools/colab_run.py", description=__doc__.splitlines()[0].rstrip(".")
    )
    p.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    p.add_argument("--keep", type=Path, help="run in (and keep) this folder, one per chapter")
    args = p.parse_args(argv)
    start = time.perf_counter()
    base = ensure_environment()
    print(f"environment ready in {time.perf_counter() - start:.1f} s", flush=True)
    failed = 0
    for path in args.notebooks or chapters():
        with contextlib.ExitStack() as stack:
            if args.keep:
                workdir = args.keep / path.stem
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            try:
                run = run_chapter(path, workdir, base)
            except Exception as err:  # report and go on with the next chapter
                failed += 1
                print(f"FAILED {path.name}: {textwrap.shorten(str(err), 2000)}", flush=True)
                continue
            slowest = ", ".join(f"{s:.0f} s {line!r}" for s, line in run.cell_seconds[:2])
            print(f"ran {path.name} at {run.commit[:12]} in {run.seconds:.0f} s ({slowest})")
    print(f"{failed} failed; {time.perf_counter() - start:.0f} s in all", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
