"""The completion routes parse their own bodies; the OpenAPI document still describes them."""

from __future__ import annotations

import pytest

from tokenplace.e2ee import generate_private_key
from tokenplace.gateway.app import create_app
from tokenplace.gateway.config import GatewaySettings


@pytest.fixture(scope="module")
def document() -> dict:
    return create_app(GatewaySettings(), generate_private_key()).openapi()


@pytest.mark.parametrize(
    ("path", "model", "field"),
    [
        ("/v1/chat/completions", "ChatCompletionRequest", "messages"),
        ("/api/v1/chat/completions", "ChatCompletionRequest", "messages"),
        ("/v1/completions", "CompletionRequest", "prompt"),
    ],
)
def test_completion_bodies_are_documented(
    document: dict, path: str, model: str, field: str
) -> None:
    operation = document["paths"][path]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    ref = body["content"]["application/json"]["schema"]["$ref"]
    assert ref == f"#/components/schemas/{model}"
    schema = document["components"]["schemas"][model]
    assert field in schema["required"] and "model" in schema["properties"]
    assert "413" in operation["responses"] and "422" not in operation["responses"]


def test_every_reference_in_the_document_resolves(document: dict) -> None:
    components = document["components"]["schemas"]
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    missing = {ref for ref in refs if ref.removeprefix("#/components/schemas/") not in components}
    assert refs and not missing
