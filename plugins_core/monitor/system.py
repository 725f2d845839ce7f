"""Facts about the computer the monitor publishes: address, MACs, versions, disk, memory, CPU."""

from __future__ import annotations

import json
import platform
import shutil
import socket
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

NET = Path("/sys/class/net")
MODEL = Path("/proc/device-tree/model")


def ipv4(towards: str, port: int) -> str:
    """This computer's address on the route to ``towards`` (the broker), "" if there is none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((towards, port))  # UDP: nothing is sent
            return str(probe.getsockname()[0])
    except OSError:
        return ""


def mac_address(interface: str) -> str:
    """The MAC address of ``interface`` (wlan0, eth0), "NA" where there is no such interface."""
    try:
        return (NET / interface / "address").read_text().strip() or "NA"
    except OSError:
        return "NA"


def machine_model() -> str:
    try:
        return MODEL.read_text(errors="replace").strip("\x00\n ")
    except OSError:
        return f"{platform.system()} {platform.machine()}"


def disk_usage_percent(path: Path) -> float:
    usage = shutil.disk_usage(path)
    return round(100.0 * usage.used / usage.total, 1) if usage.total else 0.0


def memory_usage_percent() -> float | None:
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        total = float(fields["MemTotal"].split()[0])
        available = float(fields["MemAvailable"].split()[0])
    except (OSError, KeyError, ValueError):
        return None
    return round(100.0 * (1 - available / total), 1) if total else None


class CpuUsage:
    """CPU use between two calls at least ``MIN_SPAN`` seconds apart, from /proc/stat (a shorter
    span would measure little but the monitor's own start)."""

    MIN_SPAN = 2.0

    def __init__(self) -> None:
        self._last = self._read()
        self._since = time.monotonic()
        self._measured: float | None = None

    @staticmethod
    def _read() -> tuple[float, float] | None:
        try:
            values = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except (OSError, ValueError, IndexError):
            return None
        idle = values[3] + (values[4] if len(values) > 4 else 0.0)
        return sum(values), idle

    def percent(self) -> float | None:
        """CPU use over the last span of at least ``MIN_SPAN`` (the previous figure until a new
        span is complete; None before the first)."""
        if time.monotonic() - self._since < self.MIN_SPAN:
            return self._measured
        now, last = self._read(), self._last
        self._last, self._since = now, time.monotonic()
        if now is None or last is None or now[0] <= last[0]:
            return self._measured
        busy = 1 - (now[1] - last[1]) / (now[0] - last[0])
        self._measured = round(100.0 * max(0.0, busy), 1)
        return self._measured


def leader_clock(leader: str, port: int, timeout: float = 3.0) -> datetime:
    """The leader's UTC clock from its web API (``GET /unit_api/system/utc_clock``)."""
    url = f"http://{leader}:{port}/unit_api/system/utc_clock"
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a configured host)
        body = json.loads(response.read())
    text = next(str(body[key]) for key in ("clock_time", "utc_clock", "timestamp") if key in body)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
