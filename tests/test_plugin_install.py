"""``pio plugins install`` / ``uninstall``: packages and single files, failures that change
nothing, and the flag file that disables installs.

Packages go into a throw-away virtual environment layered over this one (so ``pioreactor``
imports) and never into the project's own environment. pip runs with ``PIP_NO_INDEX=1``:
everything installed here is a local wheel, so no test needs the network.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest
from pioreactor.sdk.testing import PioHome

FIXTURES = Path(__file__).parent / "fixtures"
Run = Callable[..., subprocess.CompletedProcess[str]]


def make_overlay_venv(folder: Path) -> Path:
    """A venv whose site-packages comes first, with this environment's packages underneath.

    pip run by its python installs into (and uninstalls from) the new venv only: pip refuses to
    touch distributions outside ``sys.prefix``.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)}))
    parent = sysconfig.get_path("purelib")
    (purelib / "_pioreactor_parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return folder / "bin" / "python"


def site_snapshot(python: Path) -> dict[str, str]:
    """Every file of the venv's site-packages (outside caches) with a hash of its content."""
    purelib = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True).strip())
    return {
        str(path.relative_to(purelib)): hashlib.sha1(path.read_bytes()).hexdigest()
        for path in sorted(purelib.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def build_wheel(project: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(out), str(project)],
        check=True, capture_output=True,
    )
    return next(out.glob(f"{project.name.replace('-', '_')}-*.whl"))


def variant(tmp: Path, name: str, version: str, init: str, dependencies: str = "[]") -> Path:
    """A copy of the hello fixture package with another version and ``__init__.py``."""
    project = tmp / name / "pioreactor-hello"
    shutil.copytree(FIXTURES / "pioreactor-hello", project, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    text = (project / "pyproject.toml").read_text().replace('version = "0.3.1"', f'version = "{version}"')
    text = text.replace("[project]\n", f"[project]\ndependencies = {dependencies}\n")
    (project / "pyproject.toml").write_text(text)
    (project / "pioreactor_hello" / "__init__.py").write_text(init)
    return project


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("wheels")
    out = tmp / "dist"
    collision = "from pioreactor.sdk import hookimpl\n\n@hookimpl\ndef pioreactor_register_jobs(registry):\n    registry.add('stirring', 'pioreactor_hello.job:Hello')\n"
    fake_core = tmp / "fake" / "pioreactor"
    fake_core.mkdir(parents=True)
    (fake_core / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "pioreactor"\nversion = "99.0"\n\n[tool.setuptools]\npackages = []\n'
    )
    return {
        "hello": build_wheel(FIXTURES / "pioreactor-hello", out),
        "broken": build_wheel(FIXTURES / "pioreactor-broken", out),
        "hello_colliding": build_wheel(variant(tmp, "colliding", "0.4.0", collision), out / "colliding"),
        "hello_wants_new_core": build_wheel(
            variant(tmp, "greedy", "0.5.0", "", dependencies='["pioreactor>=99"]'), out / "greedy"
        ),
        "fake_core": build_wheel(fake_core, out / "fake"),
    }


@pytest.fixture
def venv_python(tmp_path: Path) -> Path:
    return make_overlay_venv(tmp_path / "venv")


@pytest.fixture
def vpio(pio_home: PioHome, venv_python: Path) -> Run:
    """``pio`` run by the overlay venv's python (so its pip installs there)."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv_python), "-m", "pioreactor.kernel.cli", *args],
            env=pio_home.env(PIP_NO_INDEX="1", **env), capture_output=True, text=True, timeout=120,
        )

    return run


def listed(vpio: Run) -> dict[str, dict[str, str]]:
    result = vpio("plugins", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_a_package_installs_shows_in_the_list_runs_and_uninstalls(vpio: Run, wheels: dict[str, Path], venv_python: Path) -> None:
    result = vpio("plugins", "install", str(wheels["hello"]), "--source", "wheel")
    assert result.returncode == 0, result.stderr
    assert "hello  0.3.1    package  Test Lab" in result.stdout

    row = listed(vpio)["hello"]
    assert (row["status"], row["version"], row["source"]) == ("loaded", "0.3.1", "package")
    assert (row["author"], row["homepage"]) == ("Test Lab", "https://example.org/pioreactor-hello")
    assert vpio("run", "hello_once", "--name", "lab").stdout.strip() == "hello, lab!"

    result = vpio("plugins", "uninstall", "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Uninstalled pioreactor-hello 0.3.1 (plugin hello)."
    assert "hello" not in listed(vpio)
    assert not any("pioreactor_hello" in path for path in site_snapshot(venv_python))


def test_a_plugin_that_fails_to_load_is_not_kept(vpio: Run, wheels: dict[str, Path], venv_python: Path) -> None:
    before = site_snapshot(venv_python)
    result = vpio("plugins", "install", str(wheels["broken"]))
    assert result.returncode == 1
    assert "was not kept" in result.stderr and "No module named 'a_module_that_is_not_installed'" in result.stderr
    assert site_snapshot(venv_python) == before
    assert "broken" not in listed(vpio)


def test_a_failed_upgrade_puts_the_previous_version_back(vpio: Run, wheels: dict[str, Path], venv_python: Path) -> None:
    assert vpio("plugins", "install", str(wheels["hello"])).returncode == 0
    before = site_snapshot(venv_python)
    result = vpio("plugins", "install", str(wheels["hello_colliding"]))
    assert result.returncode == 1
    assert "job 'stirring' is registered by both plugin 'stirring' and plugin 'hello'" in result.stderr
    assert site_snapshot(venv_python) == before
    assert listed(vpio)["hello"]["version"] == "0.3.1"


def test_pip_errors_and_core_replacements_change_nothing(vpio: Run, wheels: dict[str, Path], venv_python: Path, tmp_path: Path) -> None:
    before = site_snapshot(venv_python)
    corrupt = tmp_path / "pioreactor_corrupt-1.0-py3-none-any.whl"
    corrupt.write_bytes(b"not a zip file")
    result = vpio("plugins", "install", str(corrupt))
    assert result.returncode == 1 and "pip cannot install" in result.stderr and "nothing was changed" in result.stderr

    result = vpio("plugins", "install", str(wheels["hello_wants_new_core"]), PIP_FIND_LINKS=str(wheels["fake_core"].parent))
    assert result.returncode == 1
    assert "would replace pioreactor with version 99.0" in result.stderr
    assert site_snapshot(venv_python) == before


def test_single_file_plugins_install_from_a_path_or_url_and_uninstall(vpio: Run, pio_home: PioHome, tmp_path: Path) -> None:
    source = tmp_path / "greeter.py"
    source.write_text(
        "import click\nfrom pioreactor.sdk import hookimpl\n\n__plugin_version__ = '1.0'\n\n\n"
        "@click.command()\ndef greet():\n    click.echo('hi')\n\n\n@hookimpl\n"
        "def pioreactor_register_jobs(registry):\n    registry.add('greeter', 'pioreactor_local_plugin_greeter:greet')\n"
    )
    result = vpio("plugins", "install", str(source))
    assert result.returncode == 0, result.stderr
    assert listed(vpio)["greeter"]["source"] == "file"
    installed = pio_home.path / "plugins" / "greeter.py"
    assert installed.read_text() == source.read_text()

    # a new version that breaks: refused, and the working one stays
    broken = tmp_path / "v2" / "greeter.py"
    broken.parent.mkdir()
    broken.write_text("import not_installed_anywhere\n")
    result = vpio("plugins", "install", broken.as_uri(), "--source", "url")
    assert result.returncode == 1 and "the previous version was put back" in result.stderr
    assert installed.read_text() == source.read_text()

    broken.write_text("def (:\n")
    result = vpio("plugins", "install", str(broken))
    assert result.returncode == 1 and "is not valid Python" in result.stderr

    assert vpio("plugins", "uninstall", "greeter").returncode == 0
    assert not installed.exists() and "greeter" not in listed(vpio)


def test_installs_can_be_disabled_by_a_flag_file(vpio: Run, pio_home: PioHome, wheels: dict[str, Path], venv_python: Path) -> None:
    (pio_home.path / "DISALLOW_PLUGIN_INSTALLS").touch()
    before = site_snapshot(venv_python)
    for args in (("install", str(wheels["hello"])), ("uninstall", "stirring")):
        result = vpio("plugins", *args)
        assert result.returncode == 1
        assert "plugin installs and uninstalls are disabled on this unit" in result.stderr
        assert "DISALLOW_PLUGIN_INSTALLS" in result.stderr
    assert site_snapshot(venv_python) == before


def test_uninstall_refuses_core_plugins_and_unknown_names(vpio: Run) -> None:
    result = vpio("plugins", "uninstall", "stirring")
    assert result.returncode == 1 and "is a core plugin" in result.stderr
    result = vpio("plugins", "uninstall", "nothing_like_this")
    assert result.returncode == 1 and "no installed plugin" in result.stderr


def test_uninstall_refuses_paths(pio, pio_home: PioHome, tmp_path: Path) -> None:
    victim = pio_home.path / "victim.py"  # outside $PIO_HOME/plugins
    victim.write_text("precious = True\n")
    (pio_home.path / "plugins").mkdir(exist_ok=True)
    for name in ("../victim", "../victim.py", str(victim), "..\\victim", "plugins/../../victim"):
        result = pio("plugins", "uninstall", name)
        assert result.returncode == 1 and "not a plugin name" in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr
    assert victim.read_text() == "precious = True\n"


ASSETS_PLUGIN = '''
from pioreactor.sdk import BackgroundJob, hookimpl


class Bubbler(BackgroundJob):
    """:param rate: Bubbles per second."""

    job_name = "bubbler"
    published_settings = {"rate": {"datatype": "float", "settable": True}}

    def __init__(self, unit, experiment, *, rate: float = 1.0):
        super().__init__(unit, experiment)
        self.rate = rate


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add("bubbler", "pioreactor_local_plugin_bubbles:Bubbler")


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section("bubbler.config", {"rate": 1.0})


@hookimpl
def pioreactor_register_database_tables(registry):
    registry.add("bubbles", migrations=["CREATE TABLE IF NOT EXISTS bubbles (experiment TEXT, timestamp TEXT, rate REAL)"])


@hookimpl
def pioreactor_register_export_datasets(registry):
    registry.add("bubbles", table="bubbles", timestamp_columns=["timestamp"], has_unit=False)


@hookimpl
def pioreactor_register_ui_descriptors(registry):
    registry.add_job({"job_name": "bubbler", "fields": [{"key": FIELD, "type": "float", "settable": True}]})
    registry.add_chart({"chart_key": "bubbles", "topic": "bubbler/rate", "table": "bubbles", "column": "rate"})
'''


def test_what_a_plugin_contributes_comes_and_goes_with_it(vpio: Run, tmp_path: Path, pio_home: PioHome) -> None:
    source = tmp_path / "bubbles.py"
    source.write_text(ASSETS_PLUGIN.replace("FIELD", '"rate"'))
    assert vpio("plugins", "install", str(source)).returncode == 0

    ui = json.loads(vpio("plugins", "ui", "--json").stdout)
    job = next(item for item in ui["jobs"] if item["job_name"] == "bubbler")
    assert job["plugin"] == "bubbles" and job["display_name"] == "Bubbler" and job["fields"][0]["label"] == "Rate"
    assert any(chart["chart_key"] == "bubbles" for chart in ui["charts"])
    assert "bubbles" in vpio("run", "export_experiment_data", "--list").stdout
    assert "[default: 1.0]" in vpio("run", "bubbler", "--help").stdout
    assert not list(pio_home.path.rglob("*.yaml")) and not (pio_home.path / "exportable_datasets").exists()

    assert vpio("plugins", "uninstall", "bubbles").returncode == 0
    ui = json.loads(vpio("plugins", "ui", "--json").stdout)
    assert not any(item["plugin"] == "bubbles" for category in ui.values() for item in category)
    assert "bubbles" not in vpio("run", "export_experiment_data", "--list").stdout


def test_ui_descriptors_are_checked(vpio: Run, pio_home: PioHome) -> None:
    plugins = pio_home.path / "plugins"
    plugins.mkdir()
    (plugins / "bubbles.py").write_text(ASSETS_PLUGIN.replace("FIELD", '"speed"'))
    result = vpio("plugins", "check", "bubbles")
    assert result.returncode == 1
    assert "has fields ['speed'] that are neither options nor settings" in result.stdout

    (plugins / "bubbles.py").write_text(ASSETS_PLUGIN.replace('"type": "float"', '"kind": "float"').replace("FIELD", '"rate"'))
    rows = {row["name"]: row for row in json.loads(vpio("plugins", "list", "--json").stdout)}
    assert rows["bubbles"]["status"] == "failed"
    assert "unknown keys ['kind']" in rows["bubbles"]["error"]

    stepwise = ASSETS_PLUGIN.replace('"column": "rate"}', '"column": "rate", "interpolation": "smooth"}').replace("FIELD", '"rate"')
    (plugins / "bubbles.py").write_text(stepwise)
    rows = {row["name"]: row for row in json.loads(vpio("plugins", "list", "--json").stdout)}
    assert "'interpolation' must be one of linear, stepAfter, points" in rows["bubbles"]["error"]
    assert "got 'smooth'" in rows["bubbles"]["error"]
