"""Logging to the console, a file in ``$PIO_HOME`` and MQTT, with upstream's NOTICE level (25).

MQTT log records go to ``pioreactor/<unit>/<experiment>/logs/<source>/<level>`` as JSON:
``{"message", "level", "task", "source", "timestamp"}``.
"""

from __future__ import annotations

import json
import logging
import sys
from logging.handlers import WatchedFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

from pioreactor.kernel import paths
from pioreactor.kernel.clock import get_clock
from pioreactor.kernel.config import Config, get_config

if TYPE_CHECKING:
    from pioreactor.kernel.bus import Bus

NOTICE = logging.INFO + 5
logging.addLevelName(NOTICE, "NOTICE")
ROOT = "pioreactor"


class PioLogger(logging.LoggerAdapter):  # type: ignore[type-arg,unused-ignore]
    """A logger with ``.notice()``, used by jobs and commands."""

    def notice(self, msg: object, *args: object, **kwargs: object) -> None:
        self.log(NOTICE, msg, *args, **kwargs)  # type: ignore[arg-type]


def task_name(record: logging.LogRecord) -> str:
    name = record.name
    return name[len(ROOT) + 1 :] if name.startswith(ROOT + ".") else name


def escape_controls(text: str) -> str:
    """One line whatever the text: a newline in a message (``pio log -m $'ok\\n... ERROR ...'``)
    must not forge a log line, so control characters are written as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text)


class ClockFormatter(logging.Formatter):
    """Stamps records with the kernel clock, so simulated runs log simulated time; messages are
    kept to one line (a traceback, added after the message, keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        original = record.message
        record.message = escape_controls(original)
        record.task = escape_controls(str(getattr(record, "task", "")))
        try:
            return super().formatMessage(record)
        finally:
            record.message = original

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return get_clock().utc_now().strftime(datefmt or "%Y-%m-%dT%H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        record.task = task_name(record)
        return super().format(record)


class MQTTHandler(logging.Handler):
    def __init__(self, bus: Bus, unit: str, experiment: str, source: str) -> None:
        super().__init__()
        self.bus = bus
        self.unit = unit
        self.experiment = experiment
        self.source = source

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == f"{ROOT}.bus":  # the bus talking about itself must not loop through itself
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            level = record.levelname
            payload = {
                "message": message,
                "level": level,
                "task": task_name(record),
                "source": getattr(record, "source", self.source),
                "timestamp": get_clock().utc_timestamp(),
            }
            topic = f"pioreactor/{self.unit}/{self.experiment}/logs/{payload['source']}/{level.lower()}"
            self.bus.publish(topic, json.dumps(payload), qos=1)
        except Exception:
            self.handleError(record)


def _level(config: Config, key: str) -> int:
    name = config.get("logging", key, fallback="INFO").upper()
    value = logging.getLevelName(name)
    return value if isinstance(value, int) else logging.INFO


def log_file_path(config: Config | None = None) -> Path:
    config = config or get_config()
    configured = config.get("logging", "log_file", fallback="")
    return Path(configured).expanduser() if configured else paths.default_log_file()


def setup_logging(
    *,
    unit: str,
    experiment: str,
    source: str = "app",
    bus: Bus | None = None,
    console: bool = True,
) -> None:
    """Attach the console, file and (given a bus) MQTT handlers to the ``pioreactor`` logger."""
    config = get_config()
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG)
    root.propagate = False

    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(_level(config, "console_log_level"))
        stream.setFormatter(ClockFormatter("%(asctime)s %(levelname)-7s [%(task)s] %(message)s", "%H:%M:%S"))
        root.addHandler(stream)

    path = log_file_path(config)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = WatchedFileHandler(path, encoding="utf-8")
    except OSError as err:
        print(f"pioreactor: cannot write the log file {path}: {err}", file=sys.stderr)
    else:
        file_handler.setLevel(_level(config, "file_log_level"))
        file_handler.setFormatter(ClockFormatter("%(asctime)s [%(task)s] %(levelname)s %(message)s"))
        root.addHandler(file_handler)

    if bus is not None:
        mqtt_handler = MQTTHandler(bus, unit, experiment, source)
        mqtt_handler.setLevel(_level(config, "mqtt_log_level"))
        root.addHandler(mqtt_handler)


def setup_command_logging(source: str = "app") -> None:
    """Logging for a short command or action (console, file, MQTT through the process bus)."""
    from pioreactor.kernel.bus import get_bus
    from pioreactor.kernel.identity import get_assigned_experiment, get_unit_name

    setup_logging(unit=get_unit_name(), experiment=get_assigned_experiment(), source=source, bus=get_bus())


def get_logger(name: str, source: str = "app") -> PioLogger:
    """A logger named after a job or command; its records carry the plugin ``source``."""
    return PioLogger(logging.getLogger(f"{ROOT}.{name}"), {"source": source})


def close_logging() -> None:
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
