"""HTTP routes of touches: log one, list a contact's, import a calendar or mail file."""

from datetime import date
from typing import Annotated, cast

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response, status

from app.config import Settings
from app.deps import ContactDep, PagingDep, SessionDep, SettingsDep, WorkspaceDep
from app.formats import TouchFormat
from app.imports.parsers.common import FileRejected
from app.models import Workspace
from app.schemas import Page
from app.touches import inbound, service
from app.touches.schemas import (
    TouchAddressPublic,
    TouchCreate,
    TouchImportReport,
    TouchPublic,
)
from app.uploads import FORM_FORMAT, REJECTED_UPLOAD, UploadedFile, chosen_format, read_upload

router = APIRouter(tags=["touches"])


@router.post("/contacts/{contact_id}/touches", status_code=status.HTTP_201_CREATED)
def log_touch(contact: ContactDep, data: TouchCreate, session: SessionDep) -> TouchPublic:
    """Log a meeting, a call, an e-mail or a message: the contact's cadence restarts from it.

    A touch is not a give: the give/ask balance is unchanged. A day or time to come is refused.
    """
    record = service.add_touch(session=session, contact=contact, data=data, today=date.today())
    return TouchPublic.model_validate(record)


@router.get("/contacts/{contact_id}/touches")
def list_touches(
    contact: ContactDep,
    session: SessionDep,
    paging: PagingDep,
) -> Page[TouchPublic]:
    """The contact's touches, latest first."""
    touches, total = service.list_touches(
        session=session, contact=contact, limit=paging.limit, offset=paging.offset
    )
    return paging.page([TouchPublic.model_validate(t) for t in touches], total)


@router.post("/imports/touches", tags=["import and export"], responses=REJECTED_UPLOAD)
def import_touches(
    file: UploadedFile,
    session: SessionDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    format_query: Annotated[
        TouchFormat | None,
        Query(alias="format", description="Default: detected from the file."),
    ] = None,
    format_form: Annotated[TouchFormat | None, Form(alias="format"), FORM_FORMAT] = None,
) -> TouchImportReport:
    """Log touches from a calendar (.ics: Google, Outlook, Apple exports) or from mail (an
    .mbox such as Gmail Takeout's, or one .eml message).

    Every event that has happened (each occurrence of a recurring one, cancelled ones and
    declined invitations left out) is a meeting with its organizer and attendees; every message
    a touch with its From, To and Cc, on the day of its Date header. People are matched to
    contacts by e-mail, then by name when one contact only has it; the others are listed, never
    created. Importing the same file again logs nothing twice. An event or message that cannot
    be read is skipped and listed; message bodies are never read.
    """
    data = read_upload(file, settings.import_max_bytes)
    try:
        return service.import_touch_file(
            session=session,
            workspace=workspace,
            data=data,
            format_name=cast(TouchFormat | None, chosen_format(format_query, format_form)),
            today=date.today(),
        )
    except FileRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error


def _address(
    workspace: Workspace, settings: Settings, request: Request, token: str | None = None
) -> TouchAddressPublic:
    prefix = workspace.touch_token_prefix
    return TouchAddressPublic(
        enabled=workspace.touch_token_hash is not None,
        address=inbound.touch_address(token, settings) if token else None,
        prefix=f"{inbound.LOCAL_PART_PREFIX}{prefix}…" if prefix else None,
        created_at=workspace.touch_token_created_at,
        listening=getattr(request.app.state, "smtp_listener", None) is not None,
    )


@router.get("/workspace/touch-address", tags=["workspace"])
def get_touch_address(
    workspace: WorkspaceDep, settings: SettingsDep, request: Request
) -> TouchAddressPublic:
    """Whether the workspace has an inbound e-mail address, and its beginning. The whole
    address is shown only when it is made (only its hash is stored)."""
    return _address(workspace, settings, request)


@router.post("/workspace/touch-address", tags=["workspace"], status_code=status.HTTP_201_CREATED)
def make_touch_address(
    workspace: WorkspaceDep, session: SessionDep, settings: SettingsDep, request: Request
) -> TouchAddressPublic:
    """Make the workspace's secret address for mail, `touch+<token>@…`, shown this once; an
    address made before stops working (mail to it is refused).

    BCC it on the mail you send, redirect mail to it (headers kept), or forward a message to
    it (inline or as an attachment): the people of each message's From, To and Cc who are
    contacts get a touch on the day of its Date header (a forward: the original's), the others
    are ignored. Bodies and attachments are never stored.
    """
    token = inbound.new_touch_token(session=session, workspace=workspace)
    return _address(workspace, settings, request, token)


@router.delete(
    "/workspace/touch-address", tags=["workspace"], status_code=status.HTTP_204_NO_CONTENT
)
def revoke_touch_address(workspace: WorkspaceDep, session: SessionDep) -> Response:
    """Retire the workspace's address: mail to it is refused from now on."""
    inbound.revoke_touch_token(session=session, workspace=workspace)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
