"""One simulated vial per unit, shared by every process of the unit, on the kernel's clock.

The vial's state lives in the unit's intermittent storage (namespace ``simulator_world``).
Whoever touches it (a sensor read, an actuator change, a test asking for the ground truth)
loads it, integrates the model from the state's time to ``clock.time()``, applies its change
and saves it, in one exclusive SQLite transaction: two processes never advance the same
interval twice, and all of them see one trajectory. The state is created on first use (after a
reboot, or by `reset_world`) from ``[simulation]`` config.

`ground_truth()` is the channel jobs do not read: tests and benchmarks compare what a job
estimates with what the vial really does. Nothing here is published on MQTT.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pioreactor.plugins_core.simulator import SIMULATION_DEFAULTS
from pioreactor.plugins_core.simulator.faults import NAMESPACE as FAULTS_NAMESPACE
from pioreactor.plugins_core.simulator.faults import faults_in
from pioreactor.plugins_core.simulator.sensors import Optics
from pioreactor.plugins_core.simulator.vial import DoseResult, Vial, VialParameters
from pioreactor.sdk import ConfigError, get_clock, get_config, get_logger, local_intermittent_storage

if TYPE_CHECKING:
    from pioreactor.sdk import Clock, Config

NAMESPACE = "simulator_world"
STATE_KEY = "state"
INITIAL_KEYS = ("od", "temperature", "volume_ml", "alt_media_fraction")
SETUP_KEYS = ("heater_duty_cycle", "leds")

T = TypeVar("T")


def _number(config: Config, key: str) -> float:
    return config.getfloat("simulation", key, fallback=float(SIMULATION_DEFAULTS[key]))


def vial_parameters(config: Config) -> VialParameters:
    """The physics of the vial from ``[simulation]`` config."""
    try:
        return _vial_parameters(config)
    except ValueError as err:
        raise ConfigError(f"[simulation] in config.ini: {err}. Fix that key.") from None


def _vial_parameters(config: Config) -> VialParameters:
    return VialParameters(
        doubling_time_minutes=_number(config, "doubling_time_minutes"),
        lag_hours=_number(config, "lag_hours"),
        max_od=_number(config, "max_od"),
        saturation_curvature=_number(config, "saturation_curvature"),
        optimal_temperature=_number(config, "optimal_temperature"),
        min_growth_temperature=_number(config, "min_growth_temperature"),
        max_growth_temperature=_number(config, "max_growth_temperature"),
        ambient_temperature=_number(config, "ambient_temperature"),
        heater_max_delta_c=_number(config, "heater_max_delta_c"),
        heater_time_constant_minutes=_number(config, "heater_time_constant_minutes"),
        min_volume_ml=_number(config, "min_volume_ml"),
        overflow_volume_ml=_number(config, "overflow_volume_ml"),
        pump_ml_per_second=_number(config, "pump_ml_per_second"),
    )


def optics_from_config(config: Config) -> Optics:
    return Optics(
        relative_noise=_number(config, "od_noise"),
        outlier_probability=_number(config, "outlier_probability"),
        mains_hz=_number(config, "mains_hz"),
        mains_ripple=_number(config, "mains_ripple"),
    )


def initial_conditions(config: Config) -> dict[str, float | None]:
    return {
        "od": _number(config, "initial_od"),
        "temperature": config.getfloat("simulation", "initial_temperature", fallback=None),
        "volume_ml": _number(config, "initial_volume_ml"),
        "alt_media_fraction": _number(config, "initial_alt_media_fraction"),
    }


# a sensor read reuses this process's last look at the vial for this long (simulated seconds),
# unless the vial's version changed (an actuator or a fault, in any process)
OBSERVE_REUSE_SECONDS = 2.0
VERSION_KEY = "version"

class World:
    """The unit's vial as seen from this process (its config and clock).

    A backend holds one `World` for its lifetime.
    """

    def __init__(self, config: Config, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.params = vial_parameters(config)
        self._lock = threading.Lock()
        self._seen: tuple[float, int, Vial, dict[str, Any]] | None = None

    def close(self) -> None:
        """Nothing to release (storage connections belong to their threads); kept for symmetry."""

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Any, Any]]:
        """The world's store and the faults' store, inside one exclusive transaction."""
        with (
            self._lock,
            local_intermittent_storage(NAMESPACE) as state,
            local_intermittent_storage(FAULTS_NAMESPACE) as faults,
            state.transaction(),
        ):
            yield state, faults

    def _new_vial(self, now: float, **initial: Any) -> Vial:
        unknown = set(initial) - set(INITIAL_KEYS) - set(SETUP_KEYS)
        if unknown:
            known = ", ".join(INITIAL_KEYS + SETUP_KEYS)
            raise ValueError(f"unknown initial conditions {sorted(unknown)} (known: {known})")
        values = {**initial_conditions(self.config), **initial}
        vial = Vial.new(
            self.params,
            now,
            od=float(values["od"]),
            temperature=values["temperature"],
            volume_ml=float(values["volume_ml"]),
            alt_media_fraction=float(values["alt_media_fraction"]),
        )
        vial.set_heater_duty_cycle(float(values.get("heater_duty_cycle", 0.0)))
        for channel, percent in dict(values.get("leds") or {}).items():
            vial.set_led(channel, percent)
        return vial

    def touch(self, change: Callable[[Vial], T] | None = None) -> tuple[Vial, dict[str, Any], T | None]:
        """Advance the shared vial to now, apply ``change`` to it, save it.

        Returns the vial after the change, the active faults, and what ``change`` returned.
        """
        with self._transaction() as (store, faults_store):
            faults = faults_in(faults_store)
            now = self.clock.time()  # read under the lock, so the processes' times are ordered
            vial = self._load(store.get(STATE_KEY), now)
            vial.advance_to(
                now,
                heater_stuck_on=bool(faults.get("heater_stuck_on")),
                heater_disconnected=bool(faults.get("heater_disconnected")),
            )
            result = change(vial) if change is not None else None
            store[STATE_KEY] = vial.to_dict()
            version = int(store.get(VERSION_KEY, 0)) + 1
            store[VERSION_KEY] = version
        self._seen = (now, version, vial, faults)
        return vial, faults, result

    def _load(self, state: dict[str, Any] | None, now: float) -> Vial:
        if state is not None:
            try:
                return Vial.from_dict(state, self.params)
            except (TypeError, ValueError) as err:  # saved by an incompatible version
                get_logger("simulator").warning(
                    f"The simulated vial could not be loaded ({err}): starting afresh."
                )
        return self._new_vial(now)

    def observe(self) -> tuple[Vial, dict[str, Any]]:
        """The vial now, for a sensor read. Reads within ``OBSERVE_REUSE_SECONDS`` (simulated) of
        this process's last look reuse it: a reading takes dozens of samples in a few ms, and
        the culture does not change in that time."""
        seen = self._seen
        if seen is not None and 0 <= self.clock.time() - seen[0] < OBSERVE_REUSE_SECONDS:
            with local_intermittent_storage(NAMESPACE) as store:
                if store.get(VERSION_KEY) == seen[1]:  # nobody changed the vial or a fault since
                    return seen[2], seen[3]
        vial, faults, _ = self.touch()
        return vial, faults

    # -- actuators --------------------------------------------------------------------------
    def set_led(self, channel: str, percent: float) -> None:
        self.touch(lambda vial: vial.set_led(channel, percent))

    def set_heater_duty_cycle(self, duty_cycle: float) -> None:
        self.touch(lambda vial: vial.set_heater_duty_cycle(duty_cycle))

    def set_pump_duty_cycle(self, pump: str, duty_cycle: float) -> None:
        self.touch(lambda vial: vial.set_pump_duty_cycle(pump, duty_cycle))

    def dose(self, media_ml: float = 0.0, alt_media_ml: float = 0.0, waste_ml: float = 0.0) -> DoseResult:
        """Add or remove liquid at once (as a hand with a pipette would)."""
        _, _, result = self.touch(lambda vial: vial.dose(media_ml, alt_media_ml, waste_ml))
        assert result is not None
        return result

    # -- for tests and benchmarks -----------------------------------------------------------
    def reset(self, **initial: Any) -> dict[str, Any]:
        """A fresh vial from config. ``initial`` overrides its initial conditions (od, temperature,
        volume_ml, alt_media_fraction) and sets actuators from the start (heater_duty_cycle,
        leds as ``{"A": 50.0}``)."""
        with self._transaction() as (store, _):
            vial = self._new_vial(self.clock.time(), **initial)
            store[STATE_KEY] = vial.to_dict()
            store[VERSION_KEY] = int(store.get(VERSION_KEY, 0)) + 1
        self._seen = None
        return describe(vial)

    def ground_truth(self) -> dict[str, Any]:
        vial, _, _ = self.touch()  # exact, never a reused look
        return describe(vial)


def describe(vial: Vial) -> dict[str, Any]:
    """The true state as a plain dict (growth_rate per hour, volumes in ml, time on the clock)."""
    return {
        "time": vial.t,
        "od": vial.od,
        "growth_rate": vial.true_growth_rate(),
        "lag_adjustment": vial.lag_adjustment,
        "temperature": vial.temperature,
        "volume_ml": vial.volume_ml,
        "alt_media_fraction": vial.alt_media_fraction,
        "overflowed_ml": vial.overflowed_ml,
        "media_added_ml": vial.media_added_ml,
        "alt_media_added_ml": vial.alt_media_added_ml,
        "waste_removed_ml": vial.waste_removed_ml,
        "heater_duty_cycle": vial.heater_duty_cycle,
        "leds": dict(vial.leds),
        "pumps": dict(vial.pumps),
        "created_at": vial.created_at,
        "advanced_seconds": vial.advanced_seconds,
    }


def get_world() -> World:
    """The vial as seen from this process's config and clock; close it after use
    (``with get_world() as world: ...``)."""
    return World(get_config(), get_clock())


def reset_world(**initial: Any) -> dict[str, Any]:
    """Start the unit's vial afresh from ``[simulation]`` config (for tests, demos, benchmarks).

    ``reset_world(od=1.5, temperature=30, heater_duty_cycle=40, leds={"A": 50})`` overrides
    initial conditions and sets actuators from the start. Returns the new vial's `describe`.
    """
    with get_world() as world:
        return world.reset(**initial)


def ground_truth() -> dict[str, Any]:
    """The vial's true state now (advanced to the clock's time): what the jobs try to estimate."""
    with get_world() as world:
        return world.ground_truth()
