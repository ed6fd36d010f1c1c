"""The web page (issue 19): server-rendered with Jinja2 and htmx, served by the API's app.

``install(app)`` adds its routes, its static files (htmx itself among them: nothing is loaded
from another host) and the answer to a request that needs a session and has none.
"""

import pathlib

from fastapi import FastAPI, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.pages import contacts, imports, library, network
from app.pages.router import router
from app.pages.session import SignInRequired

STATIC = pathlib.Path(__file__).parent / "static"


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    """A page asks for the sign-in page; htmx, whose request was refused, is told to go there."""
    if request.headers.get("HX-Request") == "true":
        return Response(
            "Your session has ended: sign in again.",
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"HX-Redirect": "/sign-in"},
        )
    return RedirectResponse("/sign-in", status_code=status.HTTP_303_SEE_OTHER)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(contacts.router)
    app.include_router(library.router)
    app.include_router(imports.router)
    app.include_router(network.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(SignInRequired, _sign_in_required)
