"""The FastAPI application: ``create_app(settings)`` wires settings, storage and routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from functools import partial
from typing import Any

import anyio
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from app.actions.router import router as actions_router
from app.articles.router import router as articles_router
from app.config import Settings, get_settings
from app.contacts.router import router as contacts_router
from app.daily.router import router as daily_router
from app.deps import reject_unknown_query_parameters, write_turn_of
from app.docs import install_docs
from app.errors import document_errors, install_error_handlers
from app.examples import document_examples
from app.feeds.poller import FeedPoller, poll_config, poll_on_schedule
from app.feeds.router import router as feeds_router
from app.imports.limits import BodySizeLimit, body_limit
from app.imports.router import router as imports_router
from app.ledger.router import router as ledger_router
from app.network.router import router as network_router
from app.pages import install as install_pages
from app.ratelimit import rate_limiter_for
from app.runtime import open_runtime
from app.suggestions.router import router as suggestions_router
from app.touches.inbound import start_listener
from app.touches.router import router as touches_router
from app.workspaces.router import router as workspace_router

DESCRIPTION = """
**Help, don't network.** Tell Givefirst what each contact struggles with and what they are good
at, save the articles you read, and every day it suggests something helpful to send each contact
who is due a touch: an article, an introduction, or a check-in. Expect nothing back.

Click **Authorize** and paste an API key (`givefirst keys create WORKSPACE` makes one; the first
`givefirst serve` prints one).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = open_runtime(settings)
        runtime.index.start_background_work()  # HNSW for large shards, built beside the server
        app.state.settings = settings
        app.state.runtime = runtime
        app.state.session_factory = runtime.session_factory
        app.state.indexer = runtime.indexer
        app.state.suggestion_engine = runtime.suggestion_engine
        # Requests per key, counted where every replica sees the count (``app.ratelimit``).
        app.state.rate_limiter = (
            rate_limiter_for(settings.rate_limit, runtime.engine, settings.rate_limit_storage)
            if settings.rate_limit
            else None
        )
        # A semaphore of one, not a lock: a sync route takes and gives back the turn through
        # ``anyio.from_thread`` (``get_write_turn``), each call a task of its own, and a lock
        # may only be released by the task that took it.
        app.state.write_turn = anyio.Semaphore(1)
        # Every request's query parameters are checked against the OpenAPI document
        # (``reject_unknown_query_parameters``): built here, so no request waits for it.
        app.openapi()
        try:
            # Inbound e-mail (GIVEFIRST_SMTP_LISTEN): served in this event loop while the app runs.
            listener = (
                await start_listener(settings, runtime.session_factory, app.state.write_turn)
                if settings.smtp_listen
                else None
            )
            app.state.smtp_listener = listener
            # Feeds are polled here, beside the requests: on the embedded default no other
            # process may open the vector store while the server runs (``app.feeds.poller``).
            poller = FeedPoller(
                session_factory=runtime.session_factory,
                indexer=runtime.indexer,
                write_turn=write_turn_of(app.state.write_turn, runtime.session_factory),
                config=poll_config(settings),
            )
            app.state.feed_poller = poller
            try:
                async with anyio.create_task_group() as background:
                    background.start_soon(poll_on_schedule, poller, settings.feed_check_seconds)
                    try:
                        yield
                    finally:
                        poller.stop.set()  # the poll at hand ends after its current feed
                        background.cancel_scope.cancel()
            finally:
                if listener is not None:
                    await listener.close()
        finally:
            runtime.close()

    app = FastAPI(
        title="Givefirst",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by ``install_docs`` from files shipped in a package: FastAPI's use a CDN.
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(reject_unknown_query_parameters)],
    )
    app.state.rate_limiter = None  # the lifespan sets it (it may count in the database)
    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(
        BodySizeLimit,
        limit_for=partial(
            body_limit,
            import_max_bytes=settings.import_max_bytes,
            restore_max_bytes=settings.restore_max_bytes,
            max_body_bytes=settings.max_body_bytes,
        ),
    )

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness check; needs no key."""
        return {"status": "ok"}

    app.include_router(workspace_router)
    app.include_router(contacts_router)
    app.include_router(articles_router)
    app.include_router(feeds_router)
    app.include_router(ledger_router)
    app.include_router(suggestions_router)
    app.include_router(daily_router)
    app.include_router(network_router)
    app.include_router(imports_router)
    app.include_router(actions_router)
    app.include_router(touches_router)
    install_pages(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_examples(
                document_errors(
                    get_openapi(
                        title=app.title,
                        version=app.version,
                        description=app.description,
                        routes=app.routes,
                    )
                ),
                date.today(),
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
