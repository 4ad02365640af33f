"""One DEBUG line per finished job, from the event bus: ids, counts and timings only
(the bus carries no content, so this log cannot leak a prompt or an answer)."""

from __future__ import annotations

import logging

from relay.dispatcher import Dispatcher
from relay.events import JobDispatched, JobFinished, Stamped

log = logging.getLogger("relay.jobs")


class JobLog:
    """Subscribe with `events.listen(JobLog(dispatcher).on_event)`."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher
        # job_id -> the caller's routing request_id, only while DEBUG is on.
        self._request_ids: dict[str, str] = {}

    def on_event(self, stamped: Stamped) -> None:
        event = stamped.event
        try:
            if isinstance(event, JobDispatched) and log.isEnabledFor(logging.DEBUG):
                self._remember(event.job_id)
            elif isinstance(event, JobFinished):
                self._finished(event)
        except Exception:  # a listener must never break the publisher (dispatch)
            log.exception("could not log a job event")

    def _remember(self, job_id: str) -> None:
        for job in self._dispatcher.jobs():
            if job.job_id == job_id:
                self._request_ids[job_id] = job.request_id
                return

    def _finished(self, event: JobFinished) -> None:
        request_id = self._request_ids.pop(event.job_id, None)
        if not log.isEnabledFor(logging.DEBUG):
            return
        log.debug(
            "job finished",
            extra={
                "job_id": event.job_id,
                "request_id": request_id,
                "node_id": event.node_id,
                "model": event.model,
                "outcome": event.outcome.value,
                "duration_ms": round(event.duration_seconds * 1000, 3),
                "prompt_tokens": event.prompt_tokens,
                "completion_tokens": event.completion_tokens,
            },
        )
