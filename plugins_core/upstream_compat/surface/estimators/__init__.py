"""``pioreactor.estimators``: where upstream 26.x keeps stored estimators."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def __getattr__(name: str) -> Any:
    if name == "ESTIMATOR_PATH":
        from pioreactor.sdk.unit import storage_dir

        path: Path = storage_dir() / "estimators"
        return path
    raise AttributeError(f"module 'pioreactor.estimators' has no attribute {name!r}")
