"""The {{ cookiecutter.underscored }} job: drives a device on a PWM channel at a duty cycle you can change while it runs."""

from __future__ import annotations

from pioreactor.sdk import BackgroundJob, get_config
from pioreactor.sdk.hardware import get_hardware, pwm_channel_for

SECTION = "{{ cookiecutter.underscored }}.config"
# the device name in [PWM] of config.ini: e.g. `3 = {{ cookiecutter.underscored }}` gives it channel 3
DEVICE = "{{ cookiecutter.underscored }}"


def check_duty_cycle(value: float) -> float:
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"duty_cycle must be between 0 and 100 %, got {value:g}")
    return value


class {{ cookiecutter.class_name }}(BackgroundJob):
    """{{ cookiecutter.description }}: drive the PWM channel that [PWM] assigns to `{{ cookiecutter.underscored }}`.

    :param duty_cycle: Power of the device, in %. Change it while running with
        `pio jobs set {{ cookiecutter.underscored }} duty_cycle 30`.
    """

    job_name = "{{ cookiecutter.underscored }}"
    published_settings = {"duty_cycle": {"datatype": "float", "settable": True, "unit": "%"}}

    def __init__(self, unit: str, experiment: str, *, duty_cycle: float | None = None) -> None:
        # check everything that can be wrong before announcing the job on MQTT
        config = get_config()
        duty_cycle = check_duty_cycle(config.getfloat(SECTION, "duty_cycle") if duty_cycle is None else duty_cycle)
        channel = pwm_channel_for(DEVICE)  # a clear error if [PWM] has no channel for the device
        super().__init__(unit, experiment)
        # hold(): the output is switched off when the job ends, however it ends
        self.pwm = self.hold(get_hardware().pwm(channel, config.getfloat(SECTION, "pwm_hz")))
        self.duty_cycle = duty_cycle  # assigning a published setting publishes it

    def set_duty_cycle(self, value: float) -> None:
        """Called for every write to .../{{ cookiecutter.underscored }}/duty_cycle/set; raising refuses the value."""
        value = check_duty_cycle(value)
        if self.state == self.READY:
            self.pwm.set_duty_cycle(value)
        self.duty_cycle = value  # published once the output has changed

    def on_init_to_ready(self) -> None:
        """Runs before the job announces it is ready: ready means the output is on."""
        self.pwm.set_duty_cycle(self.duty_cycle)

    on_sleeping_to_ready = on_init_to_ready  # resuming after a pause

    def on_sleeping(self) -> None:
        self.pwm.off()
