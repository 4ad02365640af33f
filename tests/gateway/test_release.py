"""GET /meta and /version through a live gateway: the badge payload and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.test_images import gateway_settings, live_gateway
from tokenplace.gateway.config import GatewaySettings

FIELDS = {"environment", "version", "label", "ref"}


async def get(settings: GatewaySettings, path: str) -> httpx.Response:
    async with (
        live_gateway(settings) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        return await client.get(path)


async def fetch(tmp_path: Path, path: str = "/api/v1/meta", **overrides: Any) -> dict[str, Any]:
    response = await get(gateway_settings(tmp_path, **overrides), path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_defaults_without_ref(tmp_path: Path) -> None:
    assert await fetch(tmp_path) == {"environment": "dev", "version": "0.1.0", "label": "dev 0.1.0"}


async def test_with_ref_truncated_to_12(tmp_path: Path) -> None:
    payload = await fetch(
        tmp_path,
        environment="production",
        release_version="0.1.3",
        release_ref="0123456789abcdef0123456789abcdef01234567",
    )
    assert payload == {
        "environment": "production",
        "version": "0.1.3",
        "label": "production 0.1.3",
        "ref": "0123456789ab",
    }


async def test_short_ref_is_kept_whole(tmp_path: Path) -> None:
    payload = await fetch(tmp_path, release_ref="abc123")
    assert payload["ref"] == "abc123"


async def test_label_falls_back_to_ref_without_version(tmp_path: Path) -> None:
    payload = await fetch(
        tmp_path, environment="staging", release_version="", release_ref="deadbeefcafe1234"
    )
    assert payload == {
        "environment": "staging",
        "version": "",
        "label": "staging deadbeefcafe",
        "ref": "deadbeefcafe",
    }


@pytest.mark.parametrize("ref", ["", "   "])
async def test_blank_ref_is_omitted(tmp_path: Path, ref: str) -> None:
    assert set(await fetch(tmp_path, release_ref=ref)) == FIELDS - {"ref"}


async def test_version_alias_matches_meta(tmp_path: Path) -> None:
    overrides = {"environment": "production", "release_ref": "0123456789abcdef"}
    meta = await fetch(tmp_path, **overrides)
    alias = await fetch(tmp_path, path="/api/v1/version", **overrides)
    assert alias == meta
    assert set(alias) == FIELDS


@pytest.mark.parametrize("path", ["/api/v1/meta", "/api/v1/version"])
async def test_no_other_setting_leaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    canaries = {
        "TOKENPLACE_GATEWAY_RELAY": "canary-relay.internal:50051",
        "TOKENPLACE_GATEWAY_KEY_PATH": str(tmp_path / "canary-key.pem"),
        "TOKENPLACE_GATEWAY_OPERATOR_TOKEN": "canary-operator-token-s3cr3t",
        "TOKENPLACE_GATEWAY_RELEASE_REF": "feedfacefeedface",
        "TOKENPLACE_GATEWAY_ENVIRONMENT": "production",
    }
    for name, value in canaries.items():
        monkeypatch.setenv(name, value)
    settings = GatewaySettings()  # every field from the environment, canaries included
    assert settings.relay == canaries["TOKENPLACE_GATEWAY_RELAY"]
    assert settings.key_path.name == "canary-key.pem"
    response = await get(settings, path)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "environment": "production",
        "version": "0.1.0",
        "label": "production 0.1.0",
        "ref": "feedfacefeed",
    }
    for secret in ("canary", "s3cr3t", "50051", "pem", str(tmp_path)):
        assert secret not in response.text
