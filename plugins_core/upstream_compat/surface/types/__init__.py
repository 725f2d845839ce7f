"""``pioreactor.types``: upstream's type names for plugin signatures."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, Protocol, TypedDict

PwmChannel = Literal["1", "2", "3", "4", "5"]
LedChannel = Literal["A", "B", "C", "D"]
PdChannel = Literal["1", "2"]
PdAngle = Literal["45", "90", "135", "180"]
PdAngleOrREF = Literal["45", "90", "135", "180", "REF"]
GpioPin = int
Unit = str
Experiment = str
JobState = Literal["init", "ready", "sleeping", "disconnected", "lost"]


class PublishableSetting(TypedDict):
    datatype: str
    settable: bool
    unit: NotRequired[str]
    persist: NotRequired[bool]


class MQTTMessage(Protocol):
    """What ``subscribe_and_callback`` callbacks receive: ``.topic`` (str) and ``.payload`` (bytes)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


class DbmMapping(Protocol):
    def __getitem__(self, key: str) -> Any: ...

    def __setitem__(self, key: str, value: Any) -> None: ...
