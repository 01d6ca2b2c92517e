"""The project's set-up: declared dependencies agree, the public API is importable."""

import re
import subprocess
import sys
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
