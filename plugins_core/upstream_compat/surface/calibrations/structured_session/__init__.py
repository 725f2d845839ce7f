"""``pioreactor.calibrations.structured_session``: upstream 26.x's session record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pioreactor.utils.timing import current_utc_timestamp


def utc_iso_timestamp() -> str:
    return current_utc_timestamp()


@dataclass
class CalibrationSession:
    session_id: str = ""
    protocol_name: str = ""
    target_device: str = ""
    status: str = "in_progress"
    step_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=utc_iso_timestamp)
    updated_at: str = field(default_factory=utc_iso_timestamp)
