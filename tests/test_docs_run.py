"""Every Python sample in docs/ is run, not just compiled (and TOML, YAML, INI and JSON samples parse).

The convention (also in docs/README.md) is the fence's info string:

* ```` ```python ````: a standalone sample, run in a fresh ``$PIO_HOME``. If it implements
  hooks (``@hookimpl``), it is loaded as a single-file plugin through the real discovery and
  checked as ``pio plugins check`` does: every registration must succeed and every target it
  names must load, except targets in modules that the page does not show.
* ```` ```python title="my_plugin/job.py" ````: a file of the page's example package. The
  files of a page form one package (``my_plugin``), installed on a temporary path with an entry
  point (when the page shows its ``__init__.py``; named as in a ``toml title="pyproject.toml"``
  sample of the page, if there is one) and checked. Several blocks with the same title are
  concatenated.
* ```` ```python title="~/.pioreactor/plugins/greeter.py" ````: a single-file plugin, loaded
  and checked the same way.
* ```` ```python title="tests/test_hello.py" ````: a test, run with pytest against the page's
  package, with the fixtures of ``pioreactor.sdk.testing`` (a real broker).
* ```` ```python run="no" ````: compiled only. Say in the text why it cannot run.

Instead of a ``title``, the sample's first line may name its file: ``# my_plugin/cli.py``, or a
module docstring that starts with the path, ``~/.pioreactor/plugins/greeter.py: ...``.

Each page runs in one subprocess (this file, run as a script); each sample is one test.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import tomllib
import traceback
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from test_docs import DOCS, code_blocks, markdown_files  # noqa: E402

PYTHON = ("python", "py", "python3")
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
PLUGIN_FILE = re.compile(r"^(~/\.pioreactor|\$PIO_HOME)/plugins/(?P<name>\w+)\.py$")


def info_of(info: str) -> tuple[str, dict[str, str]]:
    """(language, attributes) of a fence's info string: ``python title="x.py"``."""
    language = info.split()[0].lower() if info.split() else ""
    return language, dict(ATTRIBUTE.findall(info))


# a sample whose first line names its file: `# my_plugin/cli.py` or `"""~/.pioreactor/plugins/x.py: ...`
FIRST_LINE_FILE = re.compile(
    r'^(?:#|""")\s*(?P<path>(?:~/\.pioreactor|\$PIO_HOME)/plugins/\w+\.py|\w+(?:/\w+)+\.py)\s*(?::|"""|$)'
)


def samples(path: Path) -> list[dict[str, Any]]:
    found = []
    for line, info, code in code_blocks(path):
        language, attributes = info_of(info)
        first = FIRST_LINE_FILE.match(code.lstrip().splitlines()[0] if code.strip() else "")
        if "title" not in attributes and language in PYTHON and first is not None:
            attributes["title"] = first["path"]
        found.append({"where": f"{path.relative_to(DOCS)}:{line}", "language": language, "code": code, **attributes})
    return found


def kind_of(sample: dict[str, Any]) -> str:
    title = sample.get("title", "")
    if sample.get("run") == "no":
        return "compile"
    if not title:
        return "plugin" if "@hookimpl" in sample["code"] else "script"
    if PLUGIN_FILE.match(title):
        return "single_file"
    if title.startswith("tests/"):
        return "test"
    if title.endswith(".py") and "/" in title:
        return "package_file"
    raise ValueError(f"{sample['where']}: cannot tell what title={title!r} is (see tests/test_docs_run.py)")


def entry_points_shown(page_samples: list[dict[str, Any]]) -> dict[str, str]:
    """``{plugin name: module}`` from a ``toml title="pyproject.toml"`` sample of the page."""
    for sample in page_samples:
        if sample["language"] == "toml" and sample.get("title", "").endswith("pyproject.toml"):
            project = tomllib.loads(sample["code"]).get("project", {})
            return dict(project.get("entry-points", {}).get("pioreactor.plugins", {}))
    return {}


# -- in the page's subprocess ----------------------------------------------------------------------
class PageRunner:
    """Runs the samples of one page; the results are ``{where: error or None}``."""

    def __init__(self, page: Path, workdir: Path) -> None:
        everything = samples(page)
        self.samples = [s for s in everything if s["language"] in PYTHON]
        self.entry_points = entry_points_shown(everything)
        self.workdir = workdir
        self.project = workdir / "project"
        self.project.mkdir()
        self.results: dict[str, str | None] = {}
        self.packages = self._write_packages()
        sys.path.insert(0, str(self.project))
        os.environ["PIO_NO_PLUGIN_INDEX"] = "1"
        os.environ.pop("PIO_STRICT_PLUGINS", None)

    def _write_packages(self) -> set[str]:
        files: dict[str, list[str]] = {}
        for sample in self.samples:
            if kind_of(sample) == "package_file":
                files.setdefault(sample["title"], []).append(sample["code"])
        for title, parts in files.items():
            path = self.project / title
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n\n".join(parts))
        packages = {title.split("/")[0] for title in files}
        for package in packages:
            if (self.project / package / "__init__.py").exists():
                info = self.project / f"{package}-0.0.0.dist-info"
                info.mkdir()
                (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.0.0\n")
                name = self.plugin_name(package)
                (info / "entry_points.txt").write_text(f"[pioreactor.plugins]\n{name} = {package}\n")
        return packages

    def plugin_name(self, package: str) -> str:
        """The entry point name a ``pyproject.toml`` sample of the page gives the package, else its name."""
        return next((name for name, value in self.entry_points.items() if value == package), package)

    def loadable(self, target: str) -> bool:
        """Targets in modules the page does not show (``my_plugin.job`` on a page without it) are not imported."""
        module = target.partition(":")[0]
        top = module.split(".")[0]
        if top not in self.packages:
            return not top.startswith("my_")  # pioreactor.*, click, a single-file plugin's own module
        relative = Path(*module.split("."))
        return (self.project / relative.with_suffix(".py")).exists() or (self.project / relative / "__init__.py").exists()

    def fresh_home(self, name: str, *, disabled: Collection[str] = ()) -> Path:
        from pioreactor.sdk.testing import reset_process_state

        home = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))
        os.environ["PIO_HOME"] = str(home)
        os.environ["PIO_DISABLED_PLUGINS"] = ",".join(sorted(disabled))
        reset_process_state()
        return home

    def check(self, plugin: str) -> str | None:
        from pioreactor.kernel.cli.plugin_check import check_plugin, register_everything
        from pioreactor.kernel.plugins import get_plugin_host

        host = get_plugin_host()
        register_everything(host)
        problems = check_plugin(host, plugin, self.loadable)
        info = host.by_name(plugin)
        if problems and info is not None and info.traceback:
            problems.append(info.traceback)
        return "\n".join(problems) or None

    def run_plugin_file(self, sample: dict[str, Any], name: str) -> str | None:
        home = self.fresh_home(name, disabled={self.plugin_name(package) for package in self.packages})
        (home / "plugins").mkdir()
        (home / "plugins" / f"{name}.py").write_text(sample["code"])
        return self.check(name)

    def run_script(self, sample: dict[str, Any]) -> str | None:
        self.fresh_home("script", disabled={self.plugin_name(package) for package in self.packages})
        exec(compile(sample["code"], f"docs/{sample['where']}", "exec"), {"__name__": "__docs_sample__"})
        return None

    def run_tests(self, tests: list[dict[str, Any]]) -> None:
        folder = self.workdir / "tests"
        folder.mkdir()
        for sample in tests:
            (folder / Path(sample["title"]).name).write_text(sample["code"])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(self.project), os.environ.get("PYTHONPATH", "")]))
        env.pop("PIO_HOME", None)
        env.pop("PIO_DISABLED_PLUGINS", None)
        result = subprocess.run(
            # its own --basetemp: left to /tmp/pytest-of-<user>, it could remove the outer session's folders
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(self.workdir / "inner-tmp"),
             "--rootdir", str(folder), str(folder)],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120,
        )
        error = None if result.returncode == 0 else result.stdout[-4000:] + result.stderr[-2000:]
        for sample in tests:
            self.results[sample["where"]] = error

    def run(self) -> dict[str, str | None]:
        tests = []
        for sample in self.samples:
            kind = kind_of(sample)
            try:
                if kind == "test":
                    tests.append(sample)
                    continue
                if kind == "single_file":
                    match = PLUGIN_FILE.match(sample["title"])
                    assert match is not None
                    error = self.run_plugin_file(sample, match["name"])
                elif kind == "plugin":
                    error = self.run_plugin_file(sample, f"sample_{sample['where'].rsplit(':', 1)[1]}")
                elif kind == "script":
                    error = self.run_script(sample)
                else:  # package files are checked together below; compile-only samples just compile
                    compile(sample["code"], sample["where"], "exec")
                    error = None
            except Exception:
                error = traceback.format_exc()
            self.results[sample["where"]] = error
        for package in sorted(self.packages):
            if (self.project / package / "__init__.py").exists():
                self.fresh_home(package)
                error = self.check(self.plugin_name(package))
            else:
                error = None
            for sample in self.samples:
                if kind_of(sample) == "package_file" and sample["title"].split("/")[0] == package:
                    self.results[sample["where"]] = error
        if tests:
            self.run_tests(tests)
        return self.results


# -- in pytest ---------------------------------------------------------------------------------------
def pages_with_python() -> list[Path]:
    return [path for path in markdown_files() if any(s["language"] in PYTHON for s in samples(path))]


ALL_SAMPLES = [(path, sample) for path in markdown_files() for sample in samples(path)]
PYTHON_SAMPLES = [(path, s) for path, s in ALL_SAMPLES if s["language"] in PYTHON]
DATA_SAMPLES = [(path, s) for path, s in ALL_SAMPLES if s["language"] in ("toml", "yaml", "yml", "ini", "json")]


@pytest.fixture(scope="session")
def page_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str | None]]:
    """Every page with Python samples, run in its own subprocess (two at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    def run_page(page: Path) -> tuple[str, dict[str, str | None]]:
        workdir = tmp_path_factory.mktemp("docs-" + page.stem)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIO_")}
        result = subprocess.run(
            [sys.executable, __file__, str(page), str(workdir)],
            env=env, capture_output=True, text=True, timeout=300,
        )
        lines = result.stdout.strip().splitlines()
        if result.returncode != 0 or not lines:
            return str(page), {"error": f"the page runner failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"}
        results: dict[str, str | None] = json.loads(lines[-1])
        return str(page), results

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run_page, pages_with_python()))


# the first of these runs every page (the session fixture): minutes on a busy machine
@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("page", "sample"), PYTHON_SAMPLES, ids=[sample["where"] for _, sample in PYTHON_SAMPLES]
)
def test_python_sample_runs(page: Path, sample: dict[str, Any], page_results: dict[str, dict[str, str | None]]) -> None:
    kind_of(sample)  # an unknown title fails here, with the convention to follow
    results = page_results[str(page)]
    assert "error" not in results, results.get("error")
    assert sample["where"] in results, f"docs/{sample['where']} was not run"
    error = results[sample["where"]]
    assert error is None, f"docs/{sample['where']} ({kind_of(sample)}, title={sample.get('title')!r}) fails:\n{error}"


@pytest.mark.parametrize(("page", "sample"), DATA_SAMPLES, ids=[sample["where"] for _, sample in DATA_SAMPLES])
def test_data_sample_parses(page: Path, sample: dict[str, Any]) -> None:
    code, language = sample["code"], sample["language"]
    try:
        if language == "toml":
            tomllib.loads(code)
        elif language in ("yaml", "yml"):
            yaml.safe_load(code)
        elif language == "json":
            json.loads(code)
        else:
            configparser.ConfigParser(strict=True, interpolation=None).read_string(textwrap.dedent(code))
    except Exception as err:
        pytest.fail(f"docs/{sample['where']}: the {language} sample does not parse: {err}")


if __name__ == "__main__":
    runner = PageRunner(Path(sys.argv[1]), Path(sys.argv[2]))
    outcome = runner.run()
    sys.stdout.flush()
    print("\n" + json.dumps(outcome))
