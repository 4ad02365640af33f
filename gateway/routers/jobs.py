"""GET /api/jobs/{id}: poll an async chat completion queued with `Prefer: respond-async`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request

from tokenplace.gateway.schemas import ErrorResponse, JobStatus

router = APIRouter(tags=["jobs"])
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 502, 503)
}


@router.get(
    "/jobs/{job_id}", response_model=JobStatus, response_model_exclude_none=True, responses=ERRORS
)
async def get_job(
    request: Request,
    job_id: str = Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$"),
) -> dict[str, Any]:
    """queued → running → completed (with `result`) or failed (with `error`)."""
    return await request.app.state.jobs.get(job_id)
