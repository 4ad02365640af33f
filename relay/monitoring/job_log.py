"""One DEBUG line per finished job, from the event bus: ids, counts and timings only
(the bus carries no content, so this log cannot leak a prompt or an answer)."""

from __future__ import annotations

import logging

from tokenplace.relay.monitoring.events import JobFinished, Stamped

log = logging.getLogger("tokenplace.relay.jobs")


class JobLog:
    """Subscribe with `events.listen(JobLog().on_event)`."""

    def on_event(self, stamped: Stamped) -> None:
        event = stamped.event
        if not isinstance(event, JobFinished) or not log.isEnabledFor(logging.DEBUG):
            return
        try:
            log.debug(
                "job finished",
                extra={
                    "job_id": event.job_id,
                    "request_id": event.request_id,
                    "node_id": event.node_id,
                    "model": event.model,
                    "outcome": event.outcome.value,
                    "duration_ms": round(event.duration_seconds * 1000, 3),
                    "prompt_tokens": event.prompt_tokens,
                    "completion_tokens": event.completion_tokens,
                },
            )
        except Exception:  # a listener must never break the publisher (dispatch)
            log.exception("could not log a job event")
