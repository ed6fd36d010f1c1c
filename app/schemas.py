"""Schema pieces shared by every resource: strict input models, bounded strings, pages."""

from typing import Annotated, Any, ClassVar, Generic, TypeVar

from fastapi import Path as FastAPIPath
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

T = TypeVar("T")

Tier = Annotated[str, StringConstraints(pattern=r"^[ABC]$")]
HttpUrlStr = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=2000, pattern=r"(?i)^https?://[^\s/$.?#][^\s]*$"
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
PainPointText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]
ExpertiseText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5_000)]
ArticleText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200_000)]


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class PatchModel(InputModel):
    """A partial update: only the fields sent change, and required fields cannot be nulled."""

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _reject_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in sorted(cls.not_nullable & data.keys()):
                if data[name] is None:
                    raise ValueError(f"'{name}' cannot be null")
        return data


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many records match, over all pages.")
    limit: int
    offset: int


# Larger ids would overflow the database's 64-bit integers.
RecordId = Annotated[int, FastAPIPath(ge=1, le=2**63 - 1)]


def like_pattern(search: str) -> str:
    """A case-insensitive "contains" LIKE pattern in which % and _ match themselves."""
    escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
