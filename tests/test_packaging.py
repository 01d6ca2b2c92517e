"""The project's set-up: declared dependencies agree, the public API is importable."""

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import centernet_edu

ROOT = Path(__file__).resolve().parents[1]

# Names coursework imports (the API contract in the project's design).
CONTRACT = [
    "gaussian_radius",
    "gaussian_2d",
    "draw_gaussian",
    "encode_ctdet",
    "encode_exdet",
    "clamped_sigmoid",
    "focal_loss",
    "focal_loss_with_logits",
    "reg_l1_loss",
    "CenterNetLoss",
    "ExtremeNetLoss",
    "heatmap_nms",
    "topk",
    "decode_ctdet",
    "decode_exdet",
    "CenterNetLite",
    "ShapesDataset",
]

# conda names of the packages whose PyPI name differs.
CONDA_NAMES = {"torch": "pytorch"}


def _name_and_spec(requirement: str) -> tuple[str, str]:
    requirement = requirement.split(";")[0].strip()
    m = re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)", requirement)
    return m.group(1).lower(), m.group(3).replace(" ", "")


def test_public_api_is_exported():
    for name in CONTRACT:
        assert hasattr(centernet_edu, name), name
        assert name in centernet_edu.__all__


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.update(_name_and_spec(d) for d in dep["pip"])
        else:
            name, spec = _name_and_spec(dep)
            conda[name] = spec
    declared = dict(_name_and_spec(d) for d in project["dependencies"] if "python_version" not in d)
    for extra in project["optional-dependencies"].values():
        declared.update(_name_and_spec(d) for d in extra if "python_version" not in d)
    # An extra that includes another ("centernet-edu[plot]") adds nothing of its own.
    declared.pop(project["name"], None)
    listed = {**pip, **conda}
    for name, spec in declared.items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in listed, f"{name} is missing from environment.yml"
        assert listed[conda_name] == spec, (
            f"{name}: pyproject {spec!r}, environment.yml {listed[conda_name]!r}"
        )
    assert project["requires-python"] == conda["python"]


def test_torch_requirement_is_a_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    torch_spec = dict(_name_and_spec(d) for d in project["dependencies"])["torch"]
    assert "==" not in torch_spec and ">=" in torch_spec


def test_demo_runs_and_recovers_its_boxes():
    out = subprocess.run(
        [sys.executable, "-m", "centernet_edu.demo"], capture_output=True, text=True, check=True
    ).stdout
    assert "hm_loss" in out and "wh_loss" in out and "off_loss" in out
    decoded = out.split("decoded from the perfect prediction")[1]
    for box in (
        "2.00, 3.00, 12.50, 10.00",
        "15.20, 14.00, 30.00, 29.50",
        "20.00, 1.00, 27.00, 8.00",
    ):
        assert box in decoded


@pytest.mark.parametrize("path", [".ci/run"])
def test_ci_calls_the_readme_test_command(path):
    assert "make test" in (ROOT / path).read_text()
    assert "make test" in (ROOT / "README.md").read_text()


def test_readme_example_runs():
    readme = (ROOT / "README.md").read_text()
    example = readme.split("## The package", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert set(namespace["stats"]) == {"loss", "hm_loss", "wh_loss", "off_loss"}
    assert namespace["dets"].shape == (1, 10, 6)


def _extras() -> dict[str, list[str]]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def _names(extras: dict[str, list[str]], wanted: list[str]) -> set[str]:
    """The packages the extras ``wanted`` bring, through the extras they include."""
    names: set[str] = set()
    for extra in wanted:
        for requirement in extras[extra]:
            name = _name_and_spec(requirement)[0]
            if name == "centernet-edu":
                included = re.search(r"\[([^\]]*)\]", requirement).group(1).split(",")
                names |= _names(extras, [e.strip() for e in included])
            else:
                names.add(name)
    return names


def test_each_extra_brings_what_its_use_needs():
    extras = _extras()
    assert _names(extras, ["plot"]) == {"matplotlib"}
    # The explorers as widgets, without matplotlib (they render without their pictures).
    assert _names(extras, ["explorers"]) == {"ipywidgets", "anywidget"}
    assert {"matplotlib", "jupyter-book", "nbval", "ipykernel"} <= _names(extras, ["book"])
    assert {"pytest", "build", "twine", "setuptools"} <= _names(extras, ["test"])


def test_make_installs_what_the_tests_and_the_chapters_need():
    makefile = (ROOT / "Makefile").read_text()
    (installed,) = re.findall(r'pip install -q -e "\.\[([^\]]*)\]"', makefile)
    names = _names(_extras(), installed.split(","))
    needed = {"matplotlib", "ipywidgets", "anywidget", "jupyterlab", "nbval", "build", "twine"}
    assert needed <= names, needed - names


def test_environment_yml_takes_pytorch_from_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]


# matplotlib is blocked the way an environment without it fails: no module of that name.
NO_MATPLOTLIB = """
import sys


class NoMatplotlib:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "matplotlib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NoMatplotlib())
for name in [m for m in sys.modules if m.partition(".")[0] == "matplotlib"]:
    del sys.modules[name]
"""


def _without_matplotlib(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", NO_MATPLOTLIB + code], capture_output=True, text=True, timeout=300
    )


def test_the_explorers_import_and_render_without_matplotlib():
    run = _without_matplotlib(
        "import centernet_edu.widgets\n"
        "from centernet_edu.losses import prior_loss\n"
        "from centernet_edu.widgets import focal_loss_explorer, prior_explorer\n"
        "page = focal_loss_explorer()._repr_html_()\n"
        "assert 'class=\"cn-hint\"' in page and '<img' not in page, page[:300]\n"
        "assert prior_explorer().numbers['total'] > 0\n"
        "assert 'matplotlib' not in sys.modules\n"
    )
    assert run.returncode == 0, run.stderr[-2000:]


def test_viz_without_matplotlib_says_which_extra_to_install():
    run = _without_matplotlib(
        "try:\n"
        "    import centernet_edu.viz\n"
        "except ImportError as e:\n"
        "    print(e)\n"
        "else:\n"
        "    raise SystemExit('centernet_edu.viz imported without matplotlib')\n"
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert 'pip install "centernet-edu[plot]"' in run.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel a release builds, from a copy of what it is built from (no build
    output lands in the working tree), offline, with the environment's setuptools."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "centernet_edu", src / "centernet_edu", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = src / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--quiet", "--wheel-dir", str(out), str(src)],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("centernet_edu-*.whl")
    return built


def test_the_wheel_passes_twine_check_and_carries_the_license(wheel):
    if importlib.util.find_spec("twine") is None:
        pytest.skip("twine is missing (pip install -e '.[test]')")
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dist_info = f"centernet_edu-{project['version']}.dist-info"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read(f"{dist_info}/METADATA").decode()
        assert z.read(f"{dist_info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    assert "Classifier: Operating System :: POSIX" in metadata
    for url in project["urls"].values():
        assert url in metadata
    # What the package loads at run time: the explorers' JavaScript and the weights.
    assert "centernet_edu/explorers/formulas.js" in names
    assert "centernet_edu/pretrained/shapes_ctdet.pt" in names


def test_the_license_is_mit_and_the_metadata_says_so():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    assert "Copyright (c) 2026 The centernet_edu authors" in (ROOT / "LICENSE").read_text()
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    assert build["requires"] == ["setuptools>=77"]  # PEP 639's license and license-files
    # One classifier per Python version requires-python admits, up to the newest tested.
    versions = [c.rsplit(" ", 1)[1] for c in project["classifiers"] if re.search(r"3\.\d+$", c)]
    assert versions[0] == project["requires-python"].removeprefix(">=")
    assert [int(v.split(".")[1]) for v in versions] == list(range(10, 10 + len(versions)))


def test_the_package_says_the_version_pyproject_gives():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert centernet_edu.__version__ == project["version"]


def _fake_torch_index(root: Path, version: str) -> str:
    """A one-project package index holding an empty ``torch`` wheel of ``version``."""
    project = root / "torch"
    project.mkdir(parents=True)
    name = f"torch-{version}-py3-none-any.whl"
    dist = f"torch-{version}.dist-info"
    with zipfile.ZipFile(project / name, "w") as whl:
        whl.writestr(
            f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n"
        )
        whl.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        whl.writestr(f"{dist}/RECORD", "")
    (project / "index.html").write_text(f'<a href="{name}">{name}</a>')
    return root.as_uri()


def _make_torch_install(tmp_path: Path, pypi: str, cpu_index: str) -> str:
    """The version ``make``'s torch line would install, with pip's dry run."""
    venv = tmp_path / "venv"
    args = [f"VENV={venv}", f"TORCH_CPU_INDEX={cpu_index}", "-n", "-B", f"{venv}/.installed"]
    plan = subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    line = next(
        s for s in plan.stdout.replace("\\\n", " ").splitlines() if "TORCH" in s or "torch==" in s
    )
    install = shlex.split(line.split("||", 1)[1])
    assert install[:4] == [f"{venv}/bin/python", "-m", "pip", "install"], install
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=pypi, PIP_DISABLE_PIP_VERSION_CHECK="1")
    dry = ["--dry-run", "--no-deps", "--ignore-installed", "--report", str(report)]
    subprocess.run([sys.executable, *install[1:], *dry], env=env, check=True, capture_output=True)
    (item,) = json.loads(report.read_text())["install"]
    return item["metadata"]["version"]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_takes_pytorchs_cpu_build_where_its_index_is_reachable(tmp_path):
    # PyPI's torch 2.13.0 is the CUDA build on Linux; the CPU index's 2.13.0+cpu outranks it.
    pypi = _fake_torch_index(tmp_path / "pypi", "2.13.0")
    cpu = _fake_torch_index(tmp_path / "cpu", "2.13.0+cpu")
    assert _make_torch_install(tmp_path, pypi, cpu) == "2.13.0+cpu"
    # Unreachable (offline, or a local wheel directory only): pip goes on with PyPI's.
    missing = (tmp_path / "unreachable").as_uri()
    assert _make_torch_install(tmp_path, pypi, missing) == "2.13.0"
