"""JSON error bodies that say what is wrong, for every error the service returns."""

import copy
import json
import logging
import math
from collections.abc import Sequence
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
from app.schemas import FIRST_YEAR, ISO_DATE_PATTERN, LAST_YEAR, URL_PATTERN

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error answer: a readable ``message``; ``detail`` is the same text, or for a 422 the
    list of fields that failed."""

    message: str = Field(description="What is wrong, in one readable sentence.")
    detail: str | list[dict[str, Any]] = Field(
        description="The same text; for a 422, one entry per field that failed."
    )


# Patterns the service's inputs use, said in words (a regular expression speaks to no one).
_PATTERNS = {
    "^[a-z_]+$": "must be one word in lower case, words joined by _ (like not_relevant)",
    "^[0-9a-f]{64}$": "must be a SHA-256 hash: 64 characters 0-9 and a-f",
    URL_PATTERN: "must be a web address starting with http:// or https://",
    ISO_DATE_PATTERN: f"must be a date like 2026-11-22, in the years {FIRST_YEAR} to {LAST_YEAR}",
}
_DATE = "must be a real date like 2026-11-22 (YYYY-MM-DD)"
# Pydantic's error types that name a JSON type (or its own internal ones), said in words.
_TYPES = {
    "missing": "is required",
    "string_type": "must be text (a JSON string)",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list (a JSON array)",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": "must be a time like 2026-11-22T08:30:00Z",
    "datetime_parsing": "must be a time like 2026-11-22T08:30:00Z",
    "datetime_from_date_parsing": "must be a time like 2026-11-22T08:30:00Z",
    "extra_forbidden": "is not a field of this request (a typo?)",
    "finite_number": "must be a finite number",
}


def _choices(expected: str) -> str:
    """Pydantic's ``"'a', 'b' or 'c'"`` without the quotes."""
    return expected.replace("'", "")


def _plural(count: Any, one: str) -> str:
    return f"{count} {one}" if count == 1 else f"{count} {one}s"


def _human(error: dict[str, Any]) -> str:
    """What is wrong with one input, in words: no regular expression, no internal type name."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return _PATTERNS.get(str(ctx.get("pattern")), "is not in the expected form")
    if kind in ("literal_error", "enum"):
        return f"must be {_choices(str(ctx.get('expected', '')))}"
    if kind == "string_too_long":
        return f"must be at most {_plural(ctx.get('max_length'), 'character')}"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "must not be empty (at least 1 character)"
        return f"must be at least {_plural(ctx.get('min_length'), 'character')}"
    if kind == "too_long":
        return f"must have at most {_plural(ctx.get('max_length'), 'item')}"
    if kind == "too_short":
        return f"must have at least {_plural(ctx.get('min_length'), 'item')}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}"
    if kind in _TYPES and not (kind == "extra_forbidden" and "query" in error.get("loc", ())):
        return _TYPES[kind]
    message = str(error.get("msg", "is not valid"))
    # A validator's own words (ValueError): pydantic puts "Value error, " before them.
    return message.removeprefix("Value error, ")


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    """``body.pain_points.0.text`` as ``pain_points[0].text``; a query or path parameter keeps
    its ``query.`` or ``path.`` (a body field may have the same name)."""
    location = ""
    for part in loc:
        if part == "body" and not location:
            continue
        if isinstance(part, int):
            location += f"[{part}]"
        elif not str(part).isidentifier() or str(part)[:1].isupper():
            # A union member's tag ("function-after[...]", "PainPointCreate"), not a place in
            # the input: every field name is in lower case.
            continue
        else:
            location += f".{part}" if location else str(part)
    return location


def _describe(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return f"the body is not valid JSON (error at character {error['loc'][-1]})"
    location = _location(error.get("loc", ()))
    return f"{location}: {_human(error)}" if location else _human(error)


def describe_errors(errors: Sequence[Any]) -> str:
    """Validation errors as one readable message, each naming its field."""
    return "; ".join(_describe(e) for e in errors)


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
                "message": describe_errors(errors),
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
