"""Shared fixtures; the general ones (broker, PIO_HOME, probe, run_job) come from pioreactor.sdk.testing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture plugin packages, pip-installed into a folder to put on PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target),
         str(FIXTURES / "pioreactor-hello"), str(FIXTURES / "pioreactor-broken")],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def notes_server(pio_home, run_job):  # type: ignore[no-untyped-def]
    """A web server with a third-party single-file plugin adding routes (tests/fixtures/web_notes_plugin.py):
    ``/unit_api/notes/<name>`` reads ``$PIO_HOME/notes/<name>``, ``POST .../wait`` queues a task
    that waits for that file, ``/api/notes`` lists them."""
    from pioreactor.plugins_core.web.testing import start_web_server

    plugins = pio_home.path / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "notes.py").write_text((FIXTURES / "web_notes_plugin.py").read_text())
    (pio_home.path / "notes").mkdir()
    (pio_home.path / "notes" / "hello.txt").write_text("hello")
    (pio_home.path / "secret.txt").write_text("TOP SECRET")
    return start_web_server(run_job)
