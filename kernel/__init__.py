"""The microkernel: mechanisms only (config, identity, clock, bus, jobs, registry, storage, hooks).

Nothing in here knows about stirring, optical density or dosing; those are plugins.
"""

from pioreactor.kernel.version import __version__

__all__ = ["__version__"]
