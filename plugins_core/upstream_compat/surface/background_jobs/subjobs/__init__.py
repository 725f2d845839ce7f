"""``pioreactor.background_jobs.subjobs``: removed upstream in 2021 (before 21.11.0).

Plugins written for it (``DosingAutomationContrib`` with a ``key`` attribute) get one clear
line instead of a traceback: see ``pioreactor.plugins_core.upstream_compat.removed``.
"""

from pioreactor.plugins_core.upstream_compat.removed import RemovedUpstreamAPI

raise RemovedUpstreamAPI("pioreactor.background_jobs.subjobs")
