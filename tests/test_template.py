"""The plugin template (plugins_contrib_template/): it renders the expected files, `pio plugins
new` renders the same thing, and the generated plugin installs and passes its own tests.

The install uses this environment's setuptools (``--no-build-isolation``) and ``PIP_NO_INDEX=1``:
the generated plugin needs nothing that is not installed already, so no network is needed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pioreactor.sdk.testing import PioHome, pio_command
from test_plugin_install import make_overlay_venv

pytest.importorskip("cookiecutter", reason="the template tests need cookiecutter: pip install -e '.[dev]'")

TEMPLATE = Path(__file__).resolve().parent.parent / "plugins_contrib_template"

BASE_FILES = {
    ".github/workflows/test.yml",
    ".gitignore",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "pioreactor_air_bubbler/__init__.py",
    "pioreactor_air_bubbler/job.py",
    "tests/test_air_bubbler.py",
}
AUTOMATION_FILES = {"pioreactor_air_bubbler/automation.py", "tests/test_automation.py"}
DATASET_FILES = {"pioreactor_air_bubbler/data.py", "tests/test_dataset.py"}


def render(output: Path, **context: str) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output), extra_context=context))


def files_of(project: Path) -> set[str]:
    return {str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()}


@pytest.mark.parametrize(
    ("automation", "dataset", "expected"),
    [("yes", "yes", BASE_FILES | AUTOMATION_FILES | DATASET_FILES), ("no", "no", BASE_FILES)],
)
def test_the_template_renders_the_expected_files(tmp_path: Path, automation: str, dataset: str, expected: set[str]) -> None:
    project = render(tmp_path, plugin_name="Air Bubbler", include_automation=automation, include_dataset=dataset)
    assert project.name == "pioreactor-air-bubbler"
    assert files_of(project) == expected

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "pioreactor-air-bubbler"
    assert pyproject["project"]["entry-points"]["pioreactor.plugins"] == {"air_bubbler": "pioreactor_air_bubbler"}
    assert "pioreactor" in pyproject["project"]["dependencies"]
    for name in files_of(project):
        text = (project / name).read_text()
        assert "cookiecutter" not in text and "{%" not in text, f"{name} was not rendered completely"
        if name.endswith(".py"):
            compile(text, name, "exec")
    init = (project / "pioreactor_air_bubbler/__init__.py").read_text()
    assert ("pioreactor_register_automations" in init) == (automation == "yes")
    assert ("pioreactor_register_export_datasets" in init) == (dataset == "yes")
    assert "${{ matrix.python-version }}" in (project / ".github/workflows/test.yml").read_text()


def test_a_name_that_cannot_be_a_package_is_refused(tmp_path: Path) -> None:
    from cookiecutter.exceptions import FailedHookException

    with pytest.raises(FailedHookException):
        render(tmp_path, plugin_name="3D printer")
    assert not list(tmp_path.iterdir())


def test_pio_plugins_new_renders_the_template(pio: object, tmp_path: Path) -> None:
    result = pio("plugins", "new", "air_bubbler", "--no-automation", "--output-dir", str(tmp_path))  # type: ignore[operator]
    assert result.returncode == 0, result.stderr
    project = tmp_path / "pioreactor-air-bubbler"
    assert f"Created {project}" in result.stdout
    assert files_of(project) == BASE_FILES | DATASET_FILES


def test_pio_plugins_new_without_cookiecutter_says_how_to_get_it(pio_home: PioHome, tmp_path: Path) -> None:
    hide = "import sys; sys.modules['cookiecutter'] = None; from pioreactor.kernel.cli import main; sys.argv[0] = 'pio'; main()"
    result = subprocess.run(
        [sys.executable, "-c", hide, "plugins", "new", "x", "--output-dir", str(tmp_path)],
        env=pio_home.env(), capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "needs cookiecutter" in result.stderr and "pip install 'pioreactor[template]'" in result.stderr


def test_the_generated_plugin_installs_and_passes_its_own_tests(pio_home: PioHome, tmp_path: Path) -> None:
    pytest.importorskip("setuptools", reason="the generated plugin builds with setuptools")
    project = render(tmp_path / "out", plugin_name="Air Bubbler")
    python = make_overlay_venv(tmp_path / "venv")
    env = pio_home.env(PIP_NO_INDEX="1")
    env.pop("PYTEST_ADDOPTS", None)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-build-isolation", "--disable-pip-version-check", "-e", "."],
        cwd=project, env=env, capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stderr

    tests = subprocess.run(
        # its own --basetemp: a pytest left to /tmp/pytest-of-<user> removes the oldest numbered
        # folders there, which may be this very session's (the docs runner's pages vanished so)
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(project.parent / "inner-tmp")],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "6 passed" in tests.stdout

    # and it runs from the command line, as `pio run air_bubbler`, once [PWM] has a channel for it
    pio_home.write_config("[PWM]\n3 = air_bubbler\n")
    command = [str(python), *pio_command("run", "air_bubbler", "--duty-cycle", "30")[1:]]
    job = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        assert job.stdout is not None
        for line in job.stdout:  # until it says it is ready (or exits)
            seen.append(line)
            if "[air_bubbler] Ready." in line:
                break
    finally:
        job.terminate()
        seen.append(job.communicate(timeout=10)[0])
    output = "".join(seen)
    assert "[air_bubbler] Ready." in output and "Disconnected" in output, output
    assert job.returncode == 0, output


TUTORIAL = TEMPLATE.parent / "docs" / "plugins" / "tutorial.md"
TUTORIAL_BLOCK = re.compile(r'(```\w+ title="([^"]+)"\n)(.*?)\n```', flags=re.S)


def render_tutorial_plugin(output: Path) -> Path:
    return render(output, plugin_name="Air Bubbler", author_name="Ada Lovelace", description="Bubble air through the culture")


def test_the_tutorial_shows_the_files_the_template_generates(tmp_path: Path) -> None:
    project = render_tutorial_plugin(tmp_path)
    shown = TUTORIAL_BLOCK.findall(TUTORIAL.read_text())
    assert len(shown) >= 5
    for _, title, code in shown:
        generated = (project / title).read_text().rstrip("\n")
        assert code == generated, (
            f"docs/plugins/tutorial.md shows {title} differently from what the template generates; "
            "`python tests/test_template.py` copies the generated files into the tutorial"
        )


if __name__ == "__main__":  # after changing the template: refresh the files the tutorial shows
    import tempfile

    project = render_tutorial_plugin(Path(tempfile.mkdtemp()))
    TUTORIAL.write_text(
        TUTORIAL_BLOCK.sub(lambda m: m[1] + (project / m[2]).read_text().rstrip("\n") + "\n```", TUTORIAL.read_text())
    )
