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
