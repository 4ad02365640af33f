"""The served OpenAPI document, made to describe what the gateway really answers.

FastAPI documents a 422 on every route with parameters; this gateway turns
validation errors into OpenAI-style 400s, so the document says that instead. Every
route with a request body can also answer 413 (gateway.body_size.BodySizeLimit). Routes
that parse their own body (gateway.json_body) name its model, and pydantic's validation
schema of it (and of the models it nests) joins the components.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Security
from fastapi.openapi.utils import get_openapi
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from tokenplace.gateway.protocol import ErrorResponse

REF_TEMPLATE = "#/components/schemas/{model}"
ERROR_REF = {"$ref": REF_TEMPLATE.format(model="ErrorResponse")}
# Route dependencies that document the operator token (auto_error=False: nothing is enforced
# here; gateway.callers reads the token and the relay checks it).
OPERATOR_SECURITY = [
    Security(APIKeyHeader(name="X-Token-Place-Operator", auto_error=False)),
    Security(HTTPBearer(auto_error=False)),
]


def install_openapi(app: FastAPI, body_models: Sequence[type[BaseModel]] = ()) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            app.openapi_schema = _corrected(_with_models(schema, body_models))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _corrected(schema: dict[str, Any]) -> dict[str, Any]:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", _error("Invalid request (OpenAI error shape)"))
            if "requestBody" in operation:
                responses.setdefault("413", _error("Request body too large"))
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema


def _with_models(schema: dict[str, Any], models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    if not models:
        return schema
    _, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template=REF_TEMPLATE
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in definitions.get("$defs", {}).items():
        components.setdefault(name, definition)
    return schema


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route can answer (the OpenAI shape)."""
    return {status: {"model": ErrorResponse} for status in statuses}
