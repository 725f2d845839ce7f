"""The pumps plugin's own hook, added through ``pioreactor_addhooks``: a lab's interlock on doses.

Call it with :func:`pioreactor.plugins_core.pumps.api.call_before_dose_hooks`; every dose does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pioreactor.sdk import hookspec

if TYPE_CHECKING:
    from pioreactor.plugins_core.pumps.api import DoseRequest


@hookspec
def pioreactor_before_dose(dose: DoseRequest) -> None:
    """Observe, change or veto a dose before the pump runs (a lab's own interlock).

    Called in the pumping process for every dose (each sub-dose of an automation too), after
    the volume is known and before the dosing event is published, in pluggy's order
    (``tryfirst`` first, ``trylast`` last, wrappers around them). Exceptions veto the dose.

    :param dose: a :class:`pioreactor.plugins_core.pumps.api.DoseRequest` with ``unit``,
        ``experiment``, ``pump`` (``media``, ``alt_media``, ``waste`` or a plugin's pump),
        ``ml``, ``source_of_event``. Set ``dose.ml`` to change the volume, or call
        ``dose.veto("reason")`` to refuse it; the pump then does not run and the reason is
        logged, and the implementations after it are skipped.
    """
