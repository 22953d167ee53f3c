"""One periodic background job: the loop shared by delivery, maintenance and retention.

A job runs its step, then sleeps for the delay the step returns (or its interval) until
woken by wake() or stopped. A failing step is logged by exception class (never its message:
it may quote personal data) and retried after `error_pause`. stop() lets a running step end
within STOP_GRACE seconds, then cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

STOP_GRACE = 10.0

Step = Callable[[], Awaitable[float | None]]


class PeriodicJob:
    def __init__(self, name: str, interval: float, *, error_pause: float | None = None,
                 stop_grace: float = STOP_GRACE) -> None:
        self.name = name
        self.interval = interval
        self.error_pause = interval if error_pause is None else error_pause
        self.stop_grace = stop_grace
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def woken(self) -> bool:
        """A wake() the running loop has not yet acted on."""
        return self._wake.is_set() and self.running

    def wake(self) -> None:
        """Runs the step again without waiting out the delay."""
        self._wake.set()

    async def pause(self, seconds: float) -> bool:
        """Sleeps up to `seconds`; returns False as soon as the job is stopping."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)
        return not self._stop.is_set()

    def start(self, step: Step) -> asyncio.Task[None]:
        task = self._task
        if task is None or task.done():
            self._stop.clear()
            task = self._task = asyncio.create_task(self.run(step), name=self.name)
        return task

    async def run(self, step: Step) -> None:
        """Runs `step` until stop(); usable directly as a task's coroutine."""
        if self._task is None:
            self._task = asyncio.current_task()
        log.info("%s started", self.name)
        try:
            while not self._stop.is_set():
                self._wake.clear()  # before the step: a wake() during it is not lost
                try:
                    delay = await step()
                except Exception as exc:  # noqa: BLE001 - keep the loop alive
                    log.error("%s: %s; retrying in %.0f s", self.name, type(exc).__name__, self.error_pause)
                    delay = self.error_pause
                if self._stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval if delay is None else max(delay, 0.0))
        finally:
            log.info("%s stopped", self.name)

    def halt(self) -> None:
        """Asks the loop to end (what stop() does first, without waiting for it)."""
        self._stop.set()
        self._wake.set()

    async def stop(self) -> None:
        self.halt()
        task = self._task
        if task is None or task.done() or task is asyncio.current_task():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self.stop_grace)
        except TimeoutError:
            if self.stop_grace > 0:
                log.warning("%s did not stop in %.0f s, cancelling", self.name, self.stop_grace)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except Exception as exc:  # noqa: BLE001 - the loop already logged it
            log.error("%s ended with %s", self.name, type(exc).__name__)
