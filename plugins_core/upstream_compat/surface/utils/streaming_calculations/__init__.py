"""``pioreactor.utils.streaming_calculations``: upstream's ``PID`` (publishing its state)."""

from __future__ import annotations

import json
from typing import Any

from pioreactor.sdk.control import PID as _Pid


class PID:
    """``PID(Kp, Ki, Kd, setpoint, output_limits=(lo, hi), ...)``; ``update(value, dt)`` returns
    the output. With ``pub_client``, each update publishes the controller's state to
    ``pioreactor/<unit>/<experiment>/pid_log/<target_name>``."""

    def __init__(
        self,
        Kp: float,  # noqa: N803 (upstream's names)
        Ki: float,  # noqa: N803
        Kd: float,  # noqa: N803
        setpoint: float,
        output_limits: tuple[float | None, float | None] = (None, None),
        sample_time: float | None = None,
        unit: str | None = None,
        experiment: str | None = None,
        job_name: str | None = None,
        target_name: str | None = None,
        derivative_smoothing: float = 0.0,
        pub_client: Any = None,
        **_: Any,
    ) -> None:
        low, high = output_limits
        self._pid = _Pid(Kp, Ki, Kd, setpoint, low, high)
        self.unit, self.experiment = unit, experiment
        self.job_name, self.target_name = job_name, target_name
        self.pub_client = pub_client

    @property
    def setpoint(self) -> float:
        return self._pid.setpoint

    def set_setpoint(self, setpoint: float) -> None:
        self._pid.set_setpoint(setpoint)

    def update(self, input_: float, dt: float = 1.0) -> float:
        output = self._pid.update(input_, dt)
        if self.pub_client is not None and self.unit and self.experiment:
            payload = dict(self._pid.as_dict(), job_name=self.job_name, target_name=self.target_name)
            self.pub_client.publish(
                f"pioreactor/{self.unit}/{self.experiment}/pid_log/{self.target_name}", json.dumps(payload)
            )
        return output

    def clean_up(self) -> None:
        pass
