"""Installing and removing plugins: packages with pip in this environment, single files in
``$PIO_HOME/plugins``. An install that fails leaves the environment as it was.

How a package install stays all-or-nothing:

1. ``pip install --dry-run --report`` resolves what would be installed, without touching anything:
   a name that does not exist, a version conflict or a broken build stops here. A plan that would
   replace ``pioreactor`` itself is refused.
2. The files of every distribution of this environment that the plan would replace (an upgrade of
   the plugin, or of one of its dependencies) are copied aside.
3. pip installs. Then a fresh process loads every plugin, runs every registration hook and loads
   everything the new plugin registered (``pio plugins check``).
4. If pip failed, the new distributions are not plugins, or the check finds a problem (an import
   error, a name collision, a plugin that worked before and fails now), the new distributions are
   uninstalled and the copied files put back; the message says why.

A single-file plugin is compiled, written to ``$PIO_HOME/plugins/NAME.py`` and checked the same
way; a failure puts back the previous file (or removes the new one).

Installs and uninstalls are refused while ``$PIO_HOME/DISALLOW_PLUGIN_INSTALLS`` exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pioreactor.kernel import paths
from pioreactor.kernel.errors import PioreactorError

DISALLOW_FLAG = "DISALLOW_PLUGIN_INSTALLS"
GROUP = "pioreactor.plugins"
FILE_PLUGIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: a distribution name as PyPI accepts it (PEP 508)
DIST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
Source = Literal["wheel", "path", "url"]


class InstallError(PioreactorError):
    """An install or uninstall was refused or failed (and was undone)."""


def ensure_installs_allowed() -> None:
    flag = paths.pio_home() / DISALLOW_FLAG
    if flag.exists():
        raise InstallError(
            f"plugin installs and uninstalls are disabled on this unit ({flag} exists); "
            "remove that file to allow them"
        )


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _tail(text: str, lines: int = 15) -> str:
    """The end of pip's output: its ERROR lines if there are any (warnings are mostly noise)."""
    kept = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in kept if line.lstrip().startswith("ERROR")]
    return "\n".join("  " + line for line in (errors or kept)[-lines:])


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pip ARGS`` with the interpreter of this process (so, this environment)."""
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    return subprocess.run(command, capture_output=True, text=True, env=_child_env())


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PIO_NO_PLUGIN_INDEX"] = "1"
    env.pop("PIO_STRICT_PLUGINS", None)
    return env


# -- what to install ------------------------------------------------------------------------------
@dataclass
class Target:
    kind: Literal["package", "file"]
    spec: str  # a pip requirement, path or URL; or the path or URL of a .py file

    @property
    def is_url(self) -> bool:
        return "://" in self.spec


def classify(name: str, source: Source | None) -> Target:
    """What ``pio plugins install NAME [--source ...]`` means."""
    is_url = "://" in name
    location = urlparse(name).path if is_url else name
    if source == "url" and not is_url:
        raise InstallError(f"--source url needs a URL (https://...), got {name!r}")
    if source in ("wheel", "path") and not Path(name).exists():
        raise InstallError(f"--source {source}: {name} does not exist")
    if source == "wheel" and not name.endswith(".whl"):
        raise InstallError(f"--source wheel needs a .whl file, got {name!r}")
    if is_url and urlparse(name).scheme not in ("http", "https", "file"):
        raise InstallError(f"unsupported URL scheme in {name!r}: use http, https or file")
    if location.endswith(".py"):
        return Target("file", name)
    if source is None and not is_url and ("/" in name or name.startswith(".")) and not Path(name).exists():
        raise InstallError(f"{name} does not exist")
    if not is_url and Path(name).exists():
        return Target("package", str(Path(name).resolve()))
    return Target("package", name)


# -- packages -------------------------------------------------------------------------------------
@dataclass
class Planned:
    name: str
    version: str
    previous: str | None  # the version this environment has now, if it is in this environment


def _installed_here(name: str) -> Any:
    """The distribution ``name`` if it is installed inside this environment (``sys.prefix``)."""
    import importlib.metadata as md

    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return None
    location = Path(str(dist.locate_file(""))).resolve()
    return dist if location.is_relative_to(Path(sys.prefix).resolve()) else None


def plan(spec: str) -> list[Planned]:
    """What pip would install for ``spec``, resolved without installing anything."""
    with tempfile.TemporaryDirectory(prefix="pio-plan-") as folder:
        report_path = Path(folder) / "report.json"
        result = pip("install", "--upgrade", "--dry-run", "--quiet", "--report", str(report_path), spec)
        if result.returncode != 0:
            raise InstallError(f"pip cannot install {spec}; nothing was changed. pip said:\n{_tail(result.stderr)}")
        report = json.loads(report_path.read_text())
    planned = []
    for item in report.get("install", []):
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        dist = _installed_here(name)
        planned.append(Planned(name, version, dist.version if dist is not None else None))
    return planned


@dataclass
class Stash:
    """Copies of the files of distributions an install replaces, to put back if it fails."""

    folder: Path
    saved: dict[str, list[tuple[Path, Path]]] = field(default_factory=dict)

    def save(self, name: str) -> None:
        dist = _installed_here(name)
        if dist is None:
            return
        copies = []
        for number, relative in enumerate(dist.files or []):
            original = Path(str(dist.locate_file(relative)))
            if original.is_file():
                copy = self.folder / normalize(name) / str(number)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(original, copy)
                copies.append((original, copy))
        self.saved[name] = copies

    def restore(self) -> None:
        for copies in self.saved.values():
            for original, copy in copies:
                original.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(copy, original)


def _undo(planned: list[Planned], stash: Stash) -> str:
    """Uninstall what the failed install put here and put back what it replaced."""
    result = pip("uninstall", "--yes", *[p.name for p in planned])
    stash.restore()
    if result.returncode != 0:
        return f" Undoing it did not go cleanly either; pip said:\n{_tail(result.stderr)}"
    return ""


def verify(*, dists: list[str] | None = None, file: str | None = None) -> dict[str, Any]:
    """Load every plugin in a fresh process and check those of ``dists`` (or the single ``file``)."""
    args = [arg for name in dists or [] for arg in ("--dist", name)]
    if file is not None:
        args += ["--file", file]
    result = subprocess.run(
        [sys.executable, "-m", "pioreactor.kernel.cli.plugin_install", *args],
        capture_output=True,
        text=True,
        env=_child_env(),
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"plugins": [], "new": [], "problems": {"(check)": [f"the check itself failed:\n{_tail(result.stderr)}"]}}
    return report


def _broken_by_install(before: dict[str, str], report: dict[str, Any]) -> list[str]:
    return [
        f"plugin {row['name']!r} worked before and now fails: {row['error']}"
        for row in report["plugins"]
        if before.get(row["name"]) == "loaded" and row["status"] != "loaded" and row["name"] not in report["new"]
    ]


def current_statuses() -> dict[str, str]:
    """Plugin name -> loaded/failed in this environment as it is now (checked in a fresh process)."""
    return {row["name"]: row["status"] for row in verify()["plugins"]}


def install_package(target: Target, assume_yes: bool = False) -> list[dict[str, Any]]:
    """pip-install a plugin package, check it, and undo everything if it does not work."""
    before = current_statuses()
    planned = plan(target.spec)
    for item in planned:
        if normalize(item.name) == "pioreactor":
            raise InstallError(
                f"installing {target.spec} would replace pioreactor with version {item.version} "
                f"(a dependency asks for it); nothing was changed. Check the plugin's dependencies."
            )
    if not planned:
        raise InstallError(f"{target.spec} is already installed (with its dependencies); nothing to do")
    with tempfile.TemporaryDirectory(prefix="pio-stash-") as folder:
        stash = Stash(Path(folder))
        for item in planned:
            if item.previous is not None:
                stash.save(item.name)
        result = pip("install", "--upgrade", target.spec)
        if result.returncode != 0:
            undo = _undo(planned, stash)
            raise InstallError(
                f"pip failed to install {target.spec}; the environment was put back as it was.{undo}\n"
                f"pip said:\n{_tail(result.stderr)}"
            )
        report = verify(dists=[item.name for item in planned])
        problems = [f"{name}: {p}" for name, found in report["problems"].items() for p in found]
        problems += _broken_by_install(before, report)
        if not report["new"]:
            problems.append(
                f"{', '.join(item.name for item in planned)} provides no Pioreactor plugin "
                f"(no entry point in the {GROUP!r} group)"
            )
        if problems:
            undo = _undo(planned, stash)
            raise InstallError(
                f"{target.spec} was not kept: " + "; ".join(problems) + f". The environment was put back as it was.{undo}"
            )
        try:
            for item in planned:
                if _plugins_of(item.name):
                    _lifecycle_hook("pioreactor_plugin_installed", item.name, assume_yes)
        except Exception as err:
            undo = _undo(planned, stash)
            raise InstallError(
                f"{target.spec} was not kept: {err}. The environment was put back as it was.{undo}"
            ) from None
    return [row for row in report["plugins"] if row["name"] in report["new"]]


def _plugins_of(dist_name: str) -> list[str]:
    import importlib.metadata as md

    try:
        return [ep.name for ep in md.distribution(dist_name).entry_points if ep.group == GROUP]
    except md.PackageNotFoundError:
        return []


def _dist_files(dist_name: str) -> list[str]:
    import importlib.metadata as md

    dist = md.distribution(dist_name)
    return [str(Path(str(dist.locate_file(f))).resolve()) for f in dist.files or []]


def _lifecycle_hook(hook_name: str, dist_name: str, assume_yes: bool) -> None:
    """Call an install-lifecycle hook on every plugin; the first exception propagates."""
    from pioreactor.kernel.plugins import get_plugin_host, load_config_with_plugins, reset_plugin_host

    reset_plugin_host()  # this process may have listed plugins before pip changed them
    load_config_with_plugins()
    hook = getattr(get_plugin_host().pm.hook, hook_name)
    files = _dist_files(dist_name)
    for impl in hook.get_hookimpls():
        impl.function(**{arg: {"distribution": dist_name, "files": files, "assume_yes": assume_yes}[arg] for arg in impl.argnames})


def running_jobs_of(plugins: list[str]) -> list[Any]:
    """Running jobs (registry records) of the jobs these plugins registered."""
    from pioreactor.kernel.job_registry import RunningJobs
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.targets import JobDefinitions

    jobs = get_plugin_host().registry(JobDefinitions)
    names = {spec.name for spec in jobs.entries.values() if spec.plugin in plugins}
    with RunningJobs() as registry:
        return [record for record in registry.running() if record.job_name in names]


def stop_jobs(records: list[Any]) -> None:
    from pioreactor.kernel.cli.jobs import terminate

    stubborn = terminate(records)
    if stubborn:
        raise InstallError(
            "these jobs did not stop: " + ", ".join(f"{r.job_name} (pid {r.pid})" for r in stubborn)
        )


def uninstall_package(name: str, assume_yes: bool = False, stop: bool = False) -> str:
    """pip-uninstall the distribution that provides plugin ``name`` (or is named ``name``)."""
    import importlib.metadata as md

    owner = None
    for dist in md.distributions():
        dist_name = dist.metadata["Name"] or ""
        plugins = [ep.name for ep in dist.entry_points if ep.group == GROUP]
        if plugins and (name in plugins or normalize(dist_name) == normalize(name)):
            owner, provided = dist, plugins
            break
    if owner is None:
        raise InstallError(f"no installed plugin or plugin package is named {name!r}; `pio plugins list` shows them")
    dist_name, version = owner.metadata["Name"], owner.version
    if normalize(dist_name) == "pioreactor":
        raise InstallError(f"{name!r} is a core plugin, part of pioreactor itself: it cannot be uninstalled")
    if _installed_here(dist_name) is None:
        raise InstallError(
            f"{dist_name} is installed outside this environment ({owner.locate_file('')}), "
            f"so pip in {sys.prefix} cannot remove it"
        )
    running = running_jobs_of(provided)
    if running and not stop:
        raise InstallError(
            f"{dist_name} cannot be uninstalled while its jobs run: "
            + ", ".join(f"{r.job_name} (pid {r.pid})" for r in running)
            + ". Stop them first (pio kill --job-name NAME), or pass --stop-jobs"
        )
    if running:
        stop_jobs(running)
    try:
        _lifecycle_hook("pioreactor_plugin_uninstalling", dist_name, assume_yes)
    except InstallError:
        raise
    except Exception as err:
        raise InstallError(f"{dist_name} was not uninstalled: {err}") from None
    result = pip("uninstall", "--yes", dist_name)
    if result.returncode != 0:
        raise InstallError(f"pip failed to uninstall {dist_name}:\n{_tail(result.stderr)}")
    return f"Uninstalled {dist_name} {version} (plugin {', '.join(provided)})."


# -- single files ---------------------------------------------------------------------------------
def _read_source(spec: str) -> bytes:
    if "://" not in spec:
        try:
            return Path(spec).read_bytes()
        except OSError as err:
            raise InstallError(f"cannot read {spec}: {err}") from None
    from urllib.request import urlopen

    try:
        with urlopen(spec, timeout=30) as response:  # noqa: S310 (http, https or file: checked in classify)
            data: bytes = response.read()
            return data
    except OSError as err:
        raise InstallError(f"cannot download {spec}: {err}") from None


def file_plugin_name(spec: str) -> str:
    stem = Path(urlparse(spec).path if "://" in spec else spec).stem
    if not FILE_PLUGIN_NAME.match(stem):
        raise InstallError(
            f"a single-file plugin is named after its file, and {stem!r} is not a usable name: "
            "use letters, digits and underscores, starting with a letter"
        )
    return stem


def install_file(target: Target) -> list[dict[str, Any]]:
    """Copy a ``.py`` plugin into ``$PIO_HOME/plugins``, check it, and put things back if it fails."""
    name = file_plugin_name(target.spec)
    source = _read_source(target.spec)
    try:
        compile(source, target.spec, "exec")
    except SyntaxError as err:
        raise InstallError(f"{target.spec} is not valid Python ({err}); nothing was changed") from None
    before = current_statuses()
    folder = paths.plugins_dir()
    folder.mkdir(parents=True, exist_ok=True)
    destination = folder / f"{name}.py"
    previous = destination.read_bytes() if destination.exists() else None
    staged = folder / f"_{name}.installing"
    staged.write_bytes(source)
    os.replace(staged, destination)
    _forget_bytecode(name)
    report = verify(file=name)
    problems = report["problems"].get(name, []) + _broken_by_install(before, report)
    if problems:
        if previous is None:
            destination.unlink()
        else:
            destination.write_bytes(previous)
        _forget_bytecode(name)
        kept = "the previous version was put back" if previous is not None else "nothing was changed"
        raise InstallError(f"{target.spec} was not kept ({kept}): " + "; ".join(problems))
    return [row for row in report["plugins"] if row["name"] == name]


def _forget_bytecode(name: str) -> None:
    for cached in (paths.plugins_dir() / "__pycache__").glob(f"{name}.*.pyc"):
        cached.unlink(missing_ok=True)


def uninstall_file(name: str, stop: bool = False) -> str | None:
    """Remove ``$PIO_HOME/plugins/NAME.py``; None if there is no such file."""
    stem = name.removesuffix(".py")
    if not FILE_PLUGIN_NAME.match(stem):
        raise InstallError(f"{name!r} is not the name of a single-file plugin")
    path = paths.plugins_dir() / f"{stem}.py"
    if path.parent.resolve() != paths.plugins_dir().resolve() or not path.is_file():
        return None
    running = running_jobs_of([path.stem])
    if running and not stop:
        raise InstallError(
            f"{path.stem} cannot be removed while its jobs run: "
            + ", ".join(f"{r.job_name} (pid {r.pid})" for r in running)
            + ". Stop them first (pio kill --job-name NAME), or pass --stop-jobs"
        )
    if running:
        stop_jobs(running)
    path.unlink()
    _forget_bytecode(path.stem)
    return f"Removed the single-file plugin {path.stem} ({path})."


# -- the front door -------------------------------------------------------------------------------
def install(name: str, source: Source | None = None, assume_yes: bool = False) -> list[dict[str, Any]]:
    ensure_installs_allowed()
    target = classify(name, source)
    return install_file(target) if target.kind == "file" else install_package(target, assume_yes)


def uninstall(name: str, assume_yes: bool = False, stop: bool = False) -> str:
    ensure_installs_allowed()
    stem = name.removesuffix(".py")
    # a name, never a path: `../../x` must not reach a file outside $PIO_HOME/plugins
    if not FILE_PLUGIN_NAME.match(stem) and not DIST_NAME.match(name):
        raise InstallError(
            f"{name!r} is not a plugin name: give the name `pio plugins list` shows "
            "(letters, digits, '_', '-' and '.'; no path separators)"
        )
    return (uninstall_file(stem, stop) if FILE_PLUGIN_NAME.match(stem) else None) or uninstall_package(
        name, assume_yes, stop
    )


def _verify_main(argv: list[str]) -> None:
    """In a fresh process: load every plugin and check those of the given distributions or file."""
    import argparse
    import importlib.metadata as md

    from pioreactor.kernel.cli.plugin_check import check_report

    parser = argparse.ArgumentParser()
    parser.add_argument("--dist", action="append", default=[])
    parser.add_argument("--file")
    args = parser.parse_args(argv)
    new: list[str] = []
    for dist_name in args.dist:
        try:
            new += [ep.name for ep in md.distribution(dist_name).entry_points if ep.group == GROUP]
        except md.PackageNotFoundError:
            continue
    if args.file:
        new.append(args.file)
    report = check_report(new)
    report["new"] = new
    print(json.dumps(report))


if __name__ == "__main__":
    _verify_main(sys.argv[1:])
