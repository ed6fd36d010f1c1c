"""HTTP pieces shared by the routes that take a file: the upload itself, its size limit, and a
format that may be named in the query or in the form."""

from typing import Annotated, Any

from fastapi import File, HTTPException, UploadFile, status
from pydantic import Field

from app.imports.limits import too_large_message
from app.schemas import without_null

REJECTED_UPLOAD: dict[int | str, dict[str, Any]] = {
    413: {"description": "The file is larger than the upload limit; nothing was imported."},
    422: {"description": "The file cannot be read (empty, not UTF-8, not the format named)."},
}
UploadedFile = Annotated[UploadFile, File(description="The file to import.")]
# A form field is sent or left out; a form cannot carry null, so the document does not offer it.
FORM_FORMAT = Field(json_schema_extra=without_null)


def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The file's bytes, or a 413 when it is larger than ``limit``."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_large_message(limit))
    return data


def chosen_format(query: str | None, form: str | None) -> str | None:
    """The format named in the query or in the form (a 422 when both name different ones)."""
    if query and form and query != form:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"format is given twice, as {query!r} and {form!r}: give it once.",
        )
    return query or form
