"""The experiment-profile plugin's public API: what a plugin's profile action receives
(:class:`ProfileActionContext`), a registered job's interface read without running it, and
where profiles are kept.

    from pioreactor.plugins_core.profiles.api import job_interface

    interface = job_interface("stirring")  # options (--target-rpm ...) and published settings
"""

from __future__ import annotations

from pioreactor.plugins_core.profiles.context import ProfileActionContext
from pioreactor.plugins_core.profiles.interfaces import (
    JobInterface,
    OptionInfo,
    automation_interface,
    experiment_profiles_dir,
    job_interface,
)

__all__ = [
    "JobInterface",
    "OptionInfo",
    "ProfileActionContext",
    "automation_interface",
    "experiment_profiles_dir",
    "job_interface",
]
