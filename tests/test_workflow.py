"""The book's workflow builds it with the README's command and publishes it to GitHub Pages,
and the README says where, from book/_config.yml. The test workflow runs .ci/run on every
push and pull request, `make test-full` on every push to main, and the package's own tests
on the oldest and newest Python it supports; the release workflow builds, checks and
publishes the package on a version tag."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
TEST_WORKFLOW = ROOT / ".github" / "workflows" / "test.yml"
RELEASE_WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
PYPROJECT = ROOT / "pyproject.toml"
README = (ROOT / "README.md").read_text()

spec = importlib.util.spec_from_file_location("colab_tool", ROOT / "tools" / "colab.py")
colab = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = colab  # dataclasses look their module up there
spec.loader.exec_module(colab)


def shell_lines(markdown: str) -> list[tuple[str, str]]:
    """(command, comment) of every line of the markdown's bash code blocks."""
    lines = []
    for block in re.findall(r"^```bash\n(.*?)^```", markdown, re.S | re.M):
        for line in block.splitlines():
            command, _, comment = line.partition("#")
            if command.strip():
                lines.append((" ".join(command.split()), comment.strip()))
    return lines


def book_command() -> str:
    """The README's command that builds the book: the one its comment says builds the
    book's HTML folder, written the same wherever the README gives it."""
    commands = {c for c, comment in shell_lines(README) if "book/_build/html" in comment}
    assert len(commands) == 1, f"the README's book commands disagree: {commands}"
    return commands.pop()


def book_output() -> str:
    """The folder the README says the book is built into."""
    folders = set(re.findall(r"\bbuild (?:the book into )?(\S+/_build/html)\b", README))
    assert len(folders) == 1, folders
    return folders.pop()


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def test_the_readme_gives_one_book_command():
    assert book_command() == "make book"
    assert book_output() == "book/_build/html"


def test_the_makefile_builds_the_book_where_the_readme_says():
    makefile = (ROOT / "Makefile").read_text()
    build = re.search(r"^book:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert build, "the Makefile has no book target"
    # jupyter-book build <folder> writes <folder>/_build/html.
    folder = re.search(r"jupyter-book build (\S+)", build.group(1)).group(1)
    assert f"{folder}/_build/html" == book_output()


def test_it_runs_on_every_push_to_main_and_by_hand(workflow):
    # YAML 1.1 reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "workflow_dispatch"}
    assert triggers["push"] == {"branches": [colab.read_repository().branch]}


def test_one_deployment_at_a_time(workflow):
    assert workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_only_the_deploy_job_may_write_to_pages(workflow):
    assert workflow["permissions"] == {"contents": "read"}
    assert set(workflow["jobs"]) == {"build", "deploy"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert "steps.deployment.outputs.page_url" in deploy["environment"]["url"]
    assert "permissions" not in workflow["jobs"]["build"]


def test_the_build_job_runs_the_readme_command_and_uploads_the_book(workflow):
    build = workflow["jobs"]["build"]
    uses = [s["uses"].split("@")[0] for s in build["steps"] if "uses" in s]
    assert uses == [
        "actions/checkout",
        "actions/setup-python",
        "actions/setup-node",
        "actions/upload-pages-artifact",
    ]
    runs = [s["run"].strip() for s in build["steps"] if "run" in s]
    assert runs == [book_command()]
    # The build comes after the set-up and before the upload.
    order = [s.get("uses", s.get("run")).split("@")[0] for s in build["steps"]]
    assert order.index(book_command()) == order.index("actions/upload-pages-artifact") - 1
    (upload,) = steps_using(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == book_output()
    python = steps_using(build, "actions/setup-python")[0]["with"]["python-version"]
    assert re.fullmatch(r"3\.1\d", str(python))


def test_the_deploy_job_deploys_the_build(workflow):
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    (step,) = deploy["steps"]
    assert step["uses"].split("@")[0] == "actions/deploy-pages"
    assert step["id"] == "deployment"


def test_every_action_is_pinned_to_a_major_version(workflow):
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"actions/[\w-]+@v\d+", step["uses"]), step["uses"]


def test_the_readme_says_where_the_book_is_published_and_how_chapters_pin_the_package():
    repo = colab.read_repository()
    assert f"<{colab.pages_url(repo)}>" in README
    assert f'REPOSITORY = "{repo.url}"' in README and "check=True" in README
    # Chapters pin commits of main, never tags (a tag makes a release, not a pin).
    online = README.split("### The book online", 1)[1].split("\n## ", 1)[0]
    assert "python tools/colab.py --check" in online and "git tag" not in online
    assert ".github/workflows/book.yml" in README and "tools/colab.py" in README


# The test workflow --------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_workflow() -> dict:
    return yaml.safe_load(TEST_WORKFLOW.read_text())


def test_the_test_workflow_runs_on_every_push_and_pull_request(test_workflow):
    # YAML 1.1 reads the key `on` as True.
    triggers = test_workflow.get("on", test_workflow.get(True))
    assert set(triggers) == {"push", "pull_request"}
    # No branch or path filters: every push and every pull request.
    assert all(not triggers[event] for event in triggers), triggers
    assert test_workflow["permissions"] == {"contents": "read"}


def step_order(job: dict) -> list[str]:
    """Each step as its action (without the version) or its command."""
    return [s.get("uses", s.get("run", "")).split("@")[0].strip() for s in job["steps"]]


def book_pip_index() -> str:
    (book,) = [
        s for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"] if "env" in s
    ]
    return book["env"]["PIP_EXTRA_INDEX_URL"]


def test_the_test_workflow_has_three_jobs_each_with_pinned_actions(test_workflow):
    assert set(test_workflow["jobs"]) == {"test", "test-full", "package"}
    for job in test_workflow["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest"
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"actions/[\w-]+@v\d+", step["uses"]), step["uses"]


def test_every_push_and_pull_request_runs_ci_run_from_a_full_clone(test_workflow):
    job = test_workflow["jobs"]["test"]
    assert "if" not in job  # every push, every pull request
    assert step_order(job) == ["actions/checkout", "actions/setup-python", ".ci/run"]
    # The chapters' install cells pin commits of the history: the Colab-like run installs
    # them from this clone, so it needs all of it.
    assert steps_using(job, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    assert str(steps_using(job, "actions/setup-python")[0]["with"]["python-version"]) == "3.11"
    (run,) = [s for s in job["steps"] if s.get("run", "").strip() == ".ci/run"]
    # PyTorch's CPU wheels, as the book's workflow.
    assert run["env"]["PIP_EXTRA_INDEX_URL"] == book_pip_index()


def test_every_push_to_main_runs_make_test_full_from_a_full_clone(test_workflow):
    job = test_workflow["jobs"]["test-full"]
    branch = colab.read_repository().branch
    assert job["if"] == f"github.event_name == 'push' && github.ref == 'refs/heads/{branch}'"
    order = step_order(job)
    assert order[:2] == ["actions/checkout", "actions/setup-python"]
    assert order[-1] == "make test-full"
    assert steps_using(job, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    assert str(steps_using(job, "actions/setup-python")[0]["with"]["python-version"]) == "3.11"
    (test,) = [s for s in job["steps"] if s.get("run", "").strip() == "make test-full"]
    assert test["env"]["PIP_EXTRA_INDEX_URL"] == book_pip_index()


def test_make_test_full_gets_what_ci_run_installs(test_workflow):
    """Chromium, ChromeDriver, npm and Node: the packages .ci/run installs when missing."""
    wanted = re.findall(r"\|\| need\+=\((\S+)\)", (ROOT / ".ci" / "run").read_text())
    assert set(wanted) == {"chromium", "chromium-driver", "npm", "nodejs"}
    job = test_workflow["jobs"]["test-full"]
    runs = "\n".join(s["run"] for s in job["steps"] if "run" in s)
    for package in wanted:
        assert f"need+=({package})" in runs, package
    assert "apt-get install" in runs
    assert runs.index("apt-get install") < runs.index("make test-full")


def test_the_package_tests_run_on_the_oldest_and_newest_supported_python(test_workflow):
    job = test_workflow["jobs"]["package"]
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    versions = [c.rsplit(" ", 1)[1] for c in project["classifiers"] if re.search(r"3\.\d+$", c)]
    assert job["strategy"]["matrix"]["python-version"] == [versions[0], versions[-1]]
    assert versions[0] == project["requires-python"].removeprefix(">=")
    python = steps_using(job, "actions/setup-python")[0]["with"]["python-version"]
    assert python == "${{ matrix.python-version }}"
    install, test = (s for s in job["steps"] if "run" in s)
    # The package with what its tests need, and not the book's tooling.
    wanted = "python -m pip install -e .[test,plot,explorers]"
    assert shlex.split(install["run"]) == wanted.split()
    assert install["env"]["PIP_EXTRA_INDEX_URL"] == book_pip_index()
    command = test["run"].split()
    assert command[:5] == ["python", "-m", "pytest", "-q", "tests"]
    assert "--nbval" not in command and not any(".ipynb" in a for a in command)
    ignored = [a.removeprefix("--ignore=") for a in command[5:]]
    assert all(a.startswith("tests/test_") for a in ignored), ignored
    for path in ignored:  # the chapters' tests, each still there
        assert (ROOT / path).is_file(), path
    assert "tests/test_packaging.py" not in ignored and "tests/test_workflow.py" not in ignored


def test_make_test_full_is_make_test_with_every_chapter_run_as_on_colab():
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"^test-full:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert target, "the Makefile has no test-full target"
    assert target.group(1).split() == [
        "COLAB_CHAPTERS=all",
        "STUDENT_CHAPTERS=all",
        "$(MAKE)",
        "test",
    ]
    assert re.search(r"^\.PHONY:.*\btest-full\b", makefile, re.M)


# The release workflow -----------------------------------------------------------------


@pytest.fixture(scope="module")
def release() -> dict:
    return yaml.safe_load(RELEASE_WORKFLOW.read_text())


def test_a_version_tag_and_nothing_else_starts_a_release(release):
    triggers = release.get("on", release.get(True))
    assert triggers == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {"contents": "read"}
    assert set(release["jobs"]) == {"build", "publish"}


def test_the_build_job_builds_checks_and_installs_the_package(release):
    job = release["jobs"]["build"]
    assert "permissions" not in job and "environment" not in job
    order = step_order(job)
    assert order[:2] == ["actions/checkout", "actions/setup-python"]
    assert order[-1] == "actions/upload-artifact"
    runs = [s["run"] for s in job["steps"] if "run" in s]

    def first(text: str) -> int:
        return next(i for i, run in enumerate(runs) if text in run)

    # The tag is the version, then build, twine check, a clean install and import, and
    # the license in the wheel, in that order.
    steps = [
        '"v$version"',
        "python -m build",
        "twine check --strict dist/*",
        "python -m venv",
        ".dist-info/licenses/LICENSE",
    ]
    assert [first(text) for text in steps] == sorted(first(text) for text in steps)
    install = runs[first("python -m venv")]
    assert "pip install dist/*.whl" in install and "import centernet_edu" in install
    (upload,) = steps_using(job, "actions/upload-artifact")
    assert upload["with"]["path"] == "dist/"


def test_the_publish_job_uses_trusted_publishing(release):
    job = release["jobs"]["publish"]
    assert job["needs"] == "build"
    assert job["environment"]["name"] == "pypi"
    # Trusted publishing: an OIDC token, and no password or API token anywhere.
    assert job["permissions"] == {"id-token": "write"}
    assert step_order(job) == ["actions/download-artifact", "pypa/gh-action-pypi-publish"]
    (download,) = steps_using(job, "actions/download-artifact")
    build = release["jobs"]["build"]
    assert (
        download["with"]["name"] == steps_using(build, "actions/upload-artifact")[0]["with"]["name"]
    )
    publish = job["steps"][-1]
    assert publish["uses"] == "pypa/gh-action-pypi-publish@release/v1"
    assert "with" not in publish and "secrets." not in RELEASE_WORKFLOW.read_text()


def test_every_release_action_is_pinned(release):
    for job in release["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(
                    r"actions/[\w-]+@v\d+|pypa/gh-action-pypi-publish@release/v1", step["uses"]
                ), step["uses"]


def test_the_readme_says_how_a_release_is_made():
    section = README.split("## Releasing", 1)[1].split("\n## ", 1)[0]
    assert ".github/workflows/release.yml" in section and "CHANGELOG.md" in section
    version = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert f"git tag v{version}" in section and "trusted publish" in section
