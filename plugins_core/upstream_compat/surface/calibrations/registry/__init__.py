"""``pioreactor.calibrations.registry``: ``CalibrationProtocol``, upstream 26.x's protocol base.

Subclasses are found through ``CalibrationProtocol.__subclasses__()`` as upstream does; running
their sessions is not supported here (see docs/plugins/upstream.md).
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


class CalibrationProtocol(Generic[T]):
    protocol_name: ClassVar[str] = ""
    target_device: ClassVar[Any] = []
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requirements: ClassVar[Any] = ()
    priority: ClassVar[int] = 0
    step_registry: ClassVar[Any] = {}

    @classmethod
    def start_session(cls, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{cls.__name__}: upstream calibration sessions cannot run here")

    @classmethod
    def on_session_abort(cls, *args: Any, **kwargs: Any) -> None:
        pass
