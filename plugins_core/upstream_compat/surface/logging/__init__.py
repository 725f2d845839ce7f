"""``pioreactor.logging``: ``create_logger`` for plugin actions and scripts.

Logs go to the console, the unit's log file and MQTT
(``pioreactor/<unit>/<experiment>/logs/<source>/<level>``), as a job's do.
"""

from __future__ import annotations

import logging
from typing import Any

from pioreactor import sdk

CustomLogger = logging.LoggerAdapter  # upstream's logger type, for annotations
NOTICE = logging.INFO + 5


def create_logger(
    name: str,
    unit: str | None = None,
    experiment: str | None = None,
    source: str = "app",
    pub_client: Any = None,
    to_mqtt: bool = True,
    **_: Any,
) -> Any:
    """A logger named ``name``; outside a job it also sets up this process's log handlers."""
    if not logging.getLogger("pioreactor").handlers:
        sdk.setup_command_logging(source)
    return sdk.get_logger(name, source)


def get_logger(name: str, source: str = "app") -> Any:
    return create_logger(name, source=source)
