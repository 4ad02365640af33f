"""GET /models and /models/{id}: the live catalog in OpenAI's model shape."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from tokenplace.client.types import ServedModel
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.models.protocol import ModelList, ModelObject, ModelPermission
from tokenplace.gateway.mounting import OPENAI_COMPATIBLE, mount
from tokenplace.gateway.openapi import error_responses
from tokenplace.gateway.services import ServicesDep

router = APIRouter(tags=["models"])


def attach(app: FastAPI) -> None:
    mount(app, router, OPENAI_COMPATIBLE)


def model_object(served: ServedModel) -> ModelObject:
    card = served.card
    permission = ModelPermission(id=f"modelperm-{card.id}", created=card.created)
    return ModelObject(
        id=card.id,
        created=card.created,
        owned_by=card.owned_by,
        permission=[permission],
        root=card.id,
    )


@router.get("/models", response_model=ModelList, responses=error_responses(503))
async def list_models(services: ServicesDep) -> ModelList:
    served = await services.relay.inference.list_models()
    return ModelList(data=[model_object(model) for model in served])


@router.get(
    "/models/{model_id:path}", response_model=ModelObject, responses=error_responses(404, 503)
)
async def retrieve_model(model_id: str, services: ServicesDep) -> ModelObject:
    for served in await services.relay.inference.list_models():
        if served.card.id == model_id:
            return model_object(served)
    raise APIError(
        404,
        f"the model {model_id!r} does not exist or is not being served",
        "model_not_found",
        "model",
    )
