"""GET /models and /models/{id}: the live catalog in OpenAI's model shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from tokenplace.gateway.deps import relay_client
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.relay_client import CatalogModel, RelayClient
from tokenplace.gateway.schemas import ErrorResponse, ModelList, ModelObject, ModelPermission

router = APIRouter(tags=["models"])
Relay = Annotated[RelayClient, Depends(relay_client)]


def to_model_object(model: CatalogModel) -> ModelObject:
    permission = ModelPermission(id=f"modelperm-{model.id}", created=model.created)
    return ModelObject(
        id=model.id,
        created=model.created,
        owned_by=model.owned_by,
        permission=[permission],
        root=model.id,
    )


@router.get("/models", response_model=ModelList, responses={503: {"model": ErrorResponse}})
async def list_models(relay: Relay) -> ModelList:
    return ModelList(data=[to_model_object(m) for m in await relay.list_models()])


@router.get(
    "/models/{model_id:path}",
    response_model=ModelObject,
    responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
async def retrieve_model(model_id: str, relay: Relay) -> ModelObject:
    for model in await relay.list_models():
        if model.id == model_id:
            return to_model_object(model)
    raise APIError(
        404,
        f"the model {model_id!r} does not exist or is not being served",
        "model_not_found",
        "model",
    )
