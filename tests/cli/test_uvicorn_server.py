"""SupervisedServer: uvicorn leaves the process's signal handlers alone, says when it
listens, and stops on `should_exit` at any moment, its lifespan startup included."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from tokenplace.cli.uvicorn_server import SupervisedServer


def app(startup: asyncio.Event | None = None, entered: asyncio.Event | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if entered is not None:
            entered.set()
        if startup is not None:
            await startup.wait()
        yield

    application = FastAPI(lifespan=lifespan)
    application.add_api_route("/", lambda: {"ok": True})
    return application


def server(application: FastAPI) -> SupervisedServer:
    config = uvicorn.Config(application, port=0, log_config=None, lifespan="on")
    return SupervisedServer(config)


async def test_it_listens_serves_and_stops_without_touching_signals() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    supervised = server(app())
    serving = asyncio.create_task(supervised.serve())
    async with asyncio.timeout(10):
        await supervised.listening.wait()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    async with httpx.AsyncClient() as http:
        assert (await http.get(supervised.url)).json() == {"ok": True}
    assert supervised.url.endswith(f":{supervised.port}")
    supervised.should_exit = True
    async with asyncio.timeout(5):
        await serving


async def test_a_stop_during_the_lifespan_startup_ends_it_once_started() -> None:
    startup, entered = asyncio.Event(), asyncio.Event()
    supervised = server(app(startup, entered))
    serving = asyncio.create_task(supervised.serve())
    async with asyncio.timeout(10):
        await entered.wait()
    supervised.should_exit = True
    startup.set()
    async with asyncio.timeout(5):
        await serving  # returned without anyone stopping it again
