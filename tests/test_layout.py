"""The package reads as the book does: small functions, modules that fit one idea, and
imports that only point back to earlier ideas."""

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

import centernet_edu

PACKAGE = Path(centernet_edu.__file__).parent
ROOT = Path(__file__).resolve().parents[1]
README = (PACKAGE.parent / "README.md").read_text()

# Reading order: a module may import only the ones before it.
ORDER = [
    "validate_base",
    "validate",
    "heatmap",
    "targets",
    "oracle",
    "losses",
    "decode",
    "fast",
    "model",
    "data.geometry",
    "data.batching",
    "data.shapes",
    "data.coco_write",
    "data.coco",
    "data",
    "boxes",
    "evaluate",
    "exercises.report",
    "exercises.judge",
    "exercises.check_targets",
    "exercises.check_encode",
    "exercises.check_targets_variants",
    "exercises.check_losses",
    "exercises.check_losses_variants",
    "exercises.check_decode",
    "exercises.check_decode_variants",
    "exercises.check_totals",
    "exercises.check_totals_variants",
    "exercises.catalog",
    "exercises.channel",
    "exercises.submission",
    "exercises.assignment",
    "exercises.worker",
    "exercises.processes",
    "exercises.grade",
    "exercises.outputs",
    "exercises.__main__",
    "train_config",
    "checkpoint",
    "train_step",
    "train",
    "cli",
    "pretrained",
    "viz",
    "widgets.explorer",
    "widgets.yours",
    "widgets.live",
    "widgets.targets_and_losses",
    "widgets.total_loss",
    "widgets.detections",
    "widgets",
    "exercises",
    "demo",
]
MODULES = sorted(
    str(p.relative_to(PACKAGE).with_suffix("")).replace("/", ".").removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
)
MODULES = [m for m in MODULES if m != "__init__"]


def source(module: str) -> str:
    path = PACKAGE / (module.replace(".", "/") + ".py")
    return (path if path.exists() else path.with_suffix("") / "__init__.py").read_text()


def test_every_module_has_a_place_in_the_reading_order():
    assert sorted(set(MODULES) - set(ORDER)) == []


def imported_modules(module: str) -> set[str]:
    """The package's modules that ``module`` imports at load time (relative imports)."""
    is_package = (PACKAGE / module.replace(".", "/")).is_dir()
    package = "centernet_edu." + (module if is_package else module.rpartition(".")[0])
    found = set()
    # Module-level imports only: a function may defer one (an entry point handing over to
    # the command line that is built on its module), which runs after both are loaded.
    for node in ast.parse(source(module)).body:
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        base = importlib.util.resolve_name(
            "." * node.level + (node.module or ""), package.strip(".")
        )
        base = base.removeprefix("centernet_edu").strip(".")
        for alias in node.names if node.module is None else [None]:
            name = f"{base}.{alias.name}".strip(".") if alias else base
            found.add(name if name in MODULES else base)
    return found - {module, ""}


@pytest.mark.parametrize("module", MODULES)
def test_modules_import_only_earlier_ideas(module):
    later = [m for m in imported_modules(module) if ORDER.index(m) >= ORDER.index(module)]
    assert later == [], f"{module} imports {later}, which come after it"


@pytest.mark.parametrize("module", ["heatmap", "targets", "losses", "decode", "model"])
def test_the_reading_path_never_imports_the_fast_kernels(module):
    """Not at load and not inside a function: a switch passes a fast kernel in."""
    for node in ast.walk(ast.parse(source(module))):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(a.name for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        assert not any(n == "fast" or n.endswith(".fast") for n in names), module


def private_imports(text: str) -> list[str]:
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


@pytest.mark.parametrize("module", MODULES)
def test_no_module_imports_another_modules_private_names(module):
    """A name with a leading underscore stays in its room: share it under a public name."""
    assert private_imports(source(module)) == [], module


def test_no_script_imports_the_packages_private_names():
    scripts = [*ROOT.glob("benchmarks/*.py"), *ROOT.glob("tools/*.py")]
    assert scripts
    found = {p.name: private_imports(p.read_text()) for p in scripts}
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("module", MODULES)
def test_modules_and_functions_stay_small(module):
    text = source(module)
    assert sum(1 for line in text.splitlines() if line.strip()) <= 450
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno - node.lineno + 1 <= 60, f"{module}.{node.name}"


def test_the_readme_lists_every_public_name():
    names = set(centernet_edu.__all__)
    modules = ["heatmap", "targets", "fast", "losses", "decode", "model", "data", "evaluate"]
    modules += ["exercises"]
    modules += ["train_config", "checkpoint", "train_step", "train", "cli", "pretrained"]
    for module in modules:
        names |= set(getattr(importlib.import_module(f"centernet_edu.{module}"), "__all__", []))
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert missing == []
