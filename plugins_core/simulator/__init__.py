"""The simulator: a virtual Pioreactor behind the same hardware interfaces as the real HAT."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_hardware_backends(registry):
    registry.add(
        "simulator",
        "pioreactor.plugins_core.simulator.backend:SimulatedUnit",
        summary="A virtual bioreactor: stirring motor with inertia and hall sensor",
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section(
        "simulation",
        {
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
        },
    )
