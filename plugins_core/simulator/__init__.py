"""The simulator: a virtual Pioreactor behind the same hardware interfaces as the real HAT."""

from pioreactor.sdk import hookimpl

# [simulation]: also the fallbacks when a process's config lacks the plugin defaults
SIMULATION_DEFAULTS: dict[str, object] = {
    # 0 picks a fresh random seed each run; any other value makes runs repeatable
    "seed": 0,
    "motor_rpm_per_duty_cycle": 36.0,
    # below this duty cycle a spinning stir bar slows to a stop
    "motor_deadband_duty_cycle": 2.0,
    # a stir bar at rest needs this much to break free (hence the start-up kick)
    "motor_breakaway_duty_cycle": 8.0,
    "motor_time_constant_seconds": 0.8,
    # relative noise of the motor speed (load, supply voltage)
    "motor_speed_noise": 0.01,
    "hall_pulses_per_revolution": 1,
    # -- the culture (read when the vial is advanced)
    # doubling time at the optimal temperature, in an adapted culture far below saturation
    "doubling_time_minutes": 75.0,
    # lag phase at the optimal temperature (Baranyi); longer when colder
    "lag_hours": 1.0,
    # carrying capacity, as OD600
    "max_od": 4.0,
    # m in d ln(OD)/dt = mu (1 - (OD/max_od)^m): 1 is the logistic curve, higher saturates later
    "saturation_curvature": 2.0,
    # cardinal temperatures: no growth at or outside [min, max], fastest at the optimum
    "optimal_temperature": 37.0,
    "min_growth_temperature": 8.0,
    "max_growth_temperature": 45.0,
    # -- heat
    "ambient_temperature": 22.0,
    # degrees above ambient that 100 % heater duty cycle settles at
    "heater_max_delta_c": 18.0,
    "heater_time_constant_minutes": 4.0,
    # noise of the temperature sensor, in degrees C
    "temperature_noise_c": 0.05,
    # -- liquid
    # the level of the efflux (waste) tube: pumping waste cannot go lower
    "min_volume_ml": 14.0,
    # above this the vial spills (counted as overflowed_ml)
    "overflow_volume_ml": 20.0,
    # flow of the media, alt-media and waste pumps at 100 % duty cycle
    "pump_ml_per_second": 1.0,
    # -- optics
    # relative Gaussian noise of the photodiode readings
    "od_noise": 0.01,
    # chance that a reading is off by +/- 30 %
    "outlier_probability": 0.005,
    # frequency of the mains ripple on the photodiodes, and its amplitude relative to the signal
    "mains_hz": 50.0,
    "mains_ripple": 0.03,
    # -- the vial when it is created (first use after a reboot, or reset_world())
    "initial_od": 0.05,
    # empty: the ambient temperature
    "initial_temperature": "",
    "initial_volume_ml": 14.0,
    "initial_alt_media_fraction": 0.0,
}

# which angle the photodiode on each ADC channel sits at: REF, 45, 90, 135, 180 or empty
PHOTODIODE_CHANNEL_DEFAULTS: dict[str, object] = {"1": "REF", "2": "90"}


@hookimpl
def pioreactor_register_hardware_backends(registry):
    registry.add(
        "simulator",
        "pioreactor.plugins_core.simulator.backend:SimulatedUnit",
        summary="A virtual bioreactor: a growing culture, optics, heat, liquid, a stirrer with inertia",
    )


def _simulation_limits() -> dict[str, object]:
    from pioreactor.sdk import Limits

    positive = Limits(above=0)
    return {
        "motor_time_constant_seconds": positive,
        "motor_rpm_per_duty_cycle": positive,
        "hall_pulses_per_revolution": Limits(minimum=1),
        "doubling_time_minutes": positive,
        "lag_hours": Limits(minimum=0),
        "max_od": positive,
        "saturation_curvature": positive,
        "heater_time_constant_minutes": positive,
        "temperature_noise_c": Limits(minimum=0),
        "min_volume_ml": Limits(minimum=0),
        "overflow_volume_ml": positive,
        "pump_ml_per_second": Limits(minimum=0),
        "od_noise": Limits(minimum=0),
        "outlier_probability": Limits(minimum=0, maximum=1),
        "mains_hz": positive,
        "initial_od": positive,
        "initial_volume_ml": Limits(minimum=0),
        "initial_alt_media_fraction": Limits(minimum=0, maximum=1),
    }


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section("simulation", SIMULATION_DEFAULTS, limits=_simulation_limits())
