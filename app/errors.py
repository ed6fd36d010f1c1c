"""JSON error bodies that say what is wrong, for every error the service returns."""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException


def _describe(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return f"the body is not valid JSON (error at character {error['loc'][-1]})"
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{location}: {error.get('msg', 'invalid')}" if location else error.get("msg", "invalid")


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 with FastAPI's usual ``detail`` list plus one readable ``message`` naming the fields."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content=jsonable_encoder(
            {
                "message": "; ".join(_describe(e) for e in errors),
                "detail": [{k: v for k, v in e.items() if k != "ctx"} for e in errors],
            }
        ),
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Every other error (401, 404, 409, ...): FastAPI's ``detail`` plus the same ``message``."""
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        status_code=exc.status_code,
        content={"message": str(exc.detail), "detail": exc.detail},
        headers=exc.headers,
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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(IntegrityError, integrity_error_handler)
