"""JSON error bodies that say what is wrong, for every error the service returns."""

import copy
import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.db import is_busy

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error answer: a readable ``message``; ``detail`` is the same text, or for a 422 the
    list of fields that failed."""

    message: str = Field(description="What is wrong, in one readable sentence.")
    detail: str | list[dict[str, Any]] = Field(
        description="The same text; for a 422, one entry per field that failed."
    )


def _describe(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return f"the body is not valid JSON (error at character {error['loc'][-1]})"
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{location}: {error.get('msg', 'invalid')}" if location else error.get("msg", "invalid")


class _AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: an error echoes the input it refused, which
    may hold half a character (a lone surrogate) that UTF-8 cannot carry."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 with FastAPI's usual ``detail`` list plus one readable ``message`` naming the fields."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    return _AsciiJSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content=jsonable_encoder(
            {
                "message": "; ".join(_describe(e) for e in errors),
                "detail": [{k: v for k, v in e.items() if k != "ctx"} for e in errors],
            }
        ),
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts on the request's path (one route serves one method, so
    the route that refused the request knows only its own)."""
    methods = []
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            methods.append(method)
    return ", ".join(methods)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Every other error (401, 404, 409, ...): FastAPI's ``detail`` plus the same ``message``."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_400_BAD_REQUEST:
        # Only the framework answers 400, when it cannot parse a body: bytes that are not UTF-8,
        # a broken multipart form. That is invalid input like malformed JSON: 422, saying why.
        message = f"The request body cannot be read: {exc.__cause__ or exc.detail}"
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"message": message, "detail": message},
        )
    headers = dict(exc.headers or {})
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers["Allow"] = _allowed_methods(request)
    return JSONResponse(
        status_code=exc.status_code,
        content={"message": str(exc.detail), "detail": exc.detail},
        headers=headers,
    )


async def integrity_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A write that broke a uniqueness or reference rule: the request is rolled back, 409."""
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={
            "message": "The change conflicts with a record already stored; nothing was saved.",
            "detail": "The change conflicts with a record already stored; nothing was saved.",
        },
    )


BUSY_DESCRIPTION = (
    "The database stayed busy with another process's write (the nightly batch, an import) for "
    "longer than the busy timeout; nothing was saved: retry after `Retry-After` seconds."
)


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A write that waited out SQLite's busy timeout behind another process: 503, retry later.
    Any other database error is a bug (500)."""
    assert isinstance(exc, OperationalError)
    if not is_busy(exc):
        return await unexpected_error_handler(request, exc)
    log.warning("%s %s: the database stayed busy (%s)", request.method, request.url.path, exc.orig)
    wait = max(1, math.ceil(request.app.state.settings.database_busy_timeout_seconds))
    message = (
        "The database is busy with a long write by another process (the nightly batch, an "
        f"import); nothing was saved. Retry in {wait} s."
    )
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"message": message, "detail": message},
        headers={"Retry-After": str(wait)},
    )


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback; the caller gets the usual error body, and no details."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    message = "Something went wrong on our side; nothing was saved. The server log says what."
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"message": message, "detail": message},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    app.add_exception_handler(OperationalError, database_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)


# Errors every operation of a kind can answer, whatever its route does: they come from the layers
# around the routes (the key check, the body limit, the rate limit, validation, the id lookup).
_COMMON_ERRORS: tuple[tuple[str, str, str], ...] = (
    # (status, which operations, description)
    ("401", "security", "Missing, invalid or revoked API key."),
    ("404", "record", "No such record in the caller's workspace."),
    ("413", "body", "The request body is larger than the limit; nothing was changed."),
    ("422", "input", "The request is not valid: `message` names each field and what is wrong."),
    ("429", "security", "Too many requests with this key: retry after `Retry-After` seconds."),
    ("503", "writes", BUSY_DESCRIPTION),
)
ERROR_SCHEMA_REF = "#/components/schemas/ErrorBody"


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the errors the service really returns documented on every operation.

    Route-specific errors (a 409 on a conflict) are declared with ``responses=`` on the route;
    this adds the cross-cutting ones, so that a new route is documented as soon as it exists.
    """
    spec = copy.deepcopy(spec)
    spec.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = (
        ErrorBody.model_json_schema()
    )
    for template, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            kinds = {
                "security": bool(operation.get("security")),
                "record": "{" in template,
                "body": "requestBody" in operation,
                "input": bool(operation.get("parameters") or operation.get("requestBody")),
                # Writes, and the reads that write (they declare the 503 themselves).
                "writes": method not in ("get", "head") or "503" in responses,
            }
            for code, kind, description in _COMMON_ERRORS:
                if not kinds[kind]:
                    continue
                documented = responses.setdefault(code, {"description": description})
                documented["content"] = {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}
    return spec
