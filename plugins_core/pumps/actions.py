"""The pump actions: short-lived jobs that dose and stop.

Each is a ``BackgroundJob`` named after the action (``add_media``, ...), so ``pio jobs list``
shows it, ``pio kill --job-name add_media`` stops it, and ``$state/set disconnected`` on its
topic stops the pump at once. The options, the pump's channel and its calibration are checked
before the job goes on the broker, so such a refusal leaves no trace but its error message; a
veto (``pioreactor_before_dose``) or a busy pump is found when the dose is about to run.
"""

from __future__ import annotations

import math
import threading
from typing import Any, ClassVar

from pioreactor.plugins_core.pumps.dose import LOST_BROKER, DosePlan, DoseResult, circulate, dose, plan_dose
from pioreactor.sdk import BackgroundJob, PioreactorError

#: how long (wall-clock seconds) stopping waits for a running dose to switch its pump off
STOP_PATIENCE_SECONDS = 5.0


class PumpJob(BackgroundJob):
    """Does its work once ready, then stops; stopping it switches its pump off."""

    def __init__(self, unit: str, experiment: str) -> None:
        super().__init__(unit, experiment)
        self.stop_pumping = threading.Event()
        self._working = threading.Lock()
        self._started = False

    def work(self) -> None:
        raise NotImplementedError

    def on_ready(self) -> None:
        if self._started:
            return
        self._started = True
        self._working.acquire()  # held until the work is done: stopping waits for the pump to be off
        threading.Thread(target=self._work_then_stop, name=f"{self.job_name}-work").start()

    def _work_then_stop(self) -> None:
        try:
            self.work()
        except (PioreactorError, ValueError) as err:
            self.logger.error("%s", err)
            self.exit_code = 1
        except Exception as err:
            self.logger.exception("%s failed: %s", self.job_name, err)
            self.exit_code = 1
        finally:
            self._working.release()
        self.request_stop("done")

    def on_ready_to_sleeping(self) -> None:
        raise RuntimeError(f"{self.job_name} cannot pause; set $state to disconnected to stop the pump")

    def on_disconnected(self) -> None:
        self.stop_pumping.set()
        # the dose notices at once and switches its pump off; wait for that (bounded)
        if self._working.acquire(timeout=STOP_PATIENCE_SECONDS):
            self._working.release()


def _amounts(ml: float | None, duration: float | None, continuously: bool) -> None:
    given = [flag for flag, value in (("--ml", ml), ("--duration", duration)) if value is not None]
    if continuously:
        given.append("--continuously")
    if len(given) != 1:
        raise PioreactorError(
            "give one of --ml, --duration or --continuously"
            + (f" (not {' and '.join(given)} together)" if given else "")
        )
    for flag, value in (("--ml", ml), ("--duration", duration)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise PioreactorError(f"{flag} must be a non-negative number, got {value:g}")


class PumpAction(PumpJob):
    """Run the pump once: a volume (--ml), a time (--duration) or until stopped (--continuously).

    :param ml: Volume to pump, in ml (needs the pump's calibration) [default: none].
    :param duration: Seconds to run the pump [default: none].
    :param continuously: Run until stopped (pio kill, Ctrl-C, or $state/set disconnected).
    :param manually: Record the dose (dosing event, volume tracking) without running the pump,
        for liquid added or removed by hand.
    :param source_of_event: Recorded with the dosing event [default: CLI, or manually].
    """

    pump: ClassVar[str] = ""

    def __init__(
        self,
        unit: str,
        experiment: str,
        *,
        ml: float | None = None,
        duration: float | None = None,
        continuously: bool = False,
        manually: bool = False,
        source_of_event: str | None = None,
    ) -> None:
        _amounts(ml, duration, continuously)
        if manually and continuously:
            raise PioreactorError(
                "--manually records a volume (--ml) or a time (--duration), not --continuously"
            )
        self.plan: DosePlan = plan_dose(self.pump, ml, duration, continuously, manually=manually)
        self.source_of_event = source_of_event or ("manually" if manually else "CLI")
        super().__init__(unit, experiment)

    def work(self) -> None:
        result = dose(
            self.pump,
            plan=self.plan,
            source_of_event=self.source_of_event,
            unit=self.unit,
            experiment=self.experiment,
            stop=self.stop_pumping,
            logger=self.logger,
        )
        self.exit_code = exit_code_for(result)


def exit_code_for(result: DoseResult) -> int:
    """1 if the dose ended because the broker went away (it did not finish), else 0."""
    return 1 if result.interrupted == LOST_BROKER else 0


class AddMedia(PumpAction):
    """Pump media into the vial: a volume (--ml), a time (--duration) or until stopped (--continuously)."""

    job_name = "add_media"
    pump = "media"


class RemoveWaste(PumpAction):
    """Pump liquid out of the vial with the waste pump: --ml, --duration or --continuously."""

    job_name = "remove_waste"
    pump = "waste"


class AddAltMedia(PumpAction):
    """Pump alternative media into the vial: --ml, --duration or --continuously."""

    job_name = "add_alt_media"
    pump = "alt_media"


class Circulation(PumpJob):
    """Run a media pump in and the waste pump out together; waste starts first and stops last.

    :param duration: Seconds to circulate.
    :param ml: Volume of media to circulate, in ml (needs the pump's calibration).
    :param continuously: Circulate until stopped.
    :param source_of_event: Recorded with the dosing event.
    """

    pump: ClassVar[str] = ""

    def __init__(
        self,
        unit: str,
        experiment: str,
        *,
        duration: float | None = None,
        ml: float | None = None,
        continuously: bool = False,
        source_of_event: str = "CLI",
    ) -> None:
        _amounts(ml, duration, continuously)
        plan_dose(self.pump, duration=1.0)  # the pump has a channel
        plan_dose("waste", continuously=True)  # and so has the waste pump
        if ml is not None:
            plan_dose(self.pump, ml=ml)  # and a calibration, for a volume
        self.amounts: dict[str, Any] = {"duration": duration, "ml": ml, "continuously": continuously}
        self.source_of_event = source_of_event
        super().__init__(unit, experiment)

    def work(self) -> None:
        result = circulate(
            self.pump,
            **self.amounts,
            source_of_event=self.source_of_event,
            unit=self.unit,
            experiment=self.experiment,
            stop=self.stop_pumping,
            logger=self.logger,
        )
        self.exit_code = exit_code_for(result)


class CirculateMedia(Circulation):
    """Run media in and waste out together; waste starts first and stops last."""

    job_name = "circulate_media"
    pump = "media"


class CirculateAltMedia(Circulation):
    """Run alternative media in and waste out together; waste starts first and stops last."""

    job_name = "circulate_alt_media"
    pump = "alt_media"


class Pumps(PumpJob):
    """Several doses, one after the other, in the order given (``pio run pumps``)."""

    job_name = "pumps"

    def __init__(
        self, unit: str, experiment: str, *, doses: list[tuple[str, float]], source_of_event: str = "CLI"
    ) -> None:
        if not doses:
            raise PioreactorError("give at least one dose, e.g. `pio run pumps --media 1 --waste 2`")
        # every dose must be possible before the first one runs
        self.plans = [plan_dose(pump, ml=ml) for pump, ml in doses]
        self.source_of_event = source_of_event
        super().__init__(unit, experiment)

    def work(self) -> None:
        for plan in self.plans:
            if self.stop_pumping.is_set():
                return
            result = dose(
                plan.pump,
                plan=plan,
                source_of_event=self.source_of_event,
                unit=self.unit,
                experiment=self.experiment,
                stop=self.stop_pumping,
                logger=self.logger,
            )
            if result.interrupted:
                self.exit_code = exit_code_for(result)
                return
