"""Request and response bodies of the workspace resource."""

from typing import Annotated, ClassVar

from pydantic import BaseModel, Field, field_validator

from app.schemas import PatchModel, Signature, TierText

CadenceDays = Annotated[int, Field(ge=1, le=3650)]


class WorkspacePublic(BaseModel):
    name: str
    default_tier: str
    cadence_days: dict[str, int] = Field(description="Days between touches for tiers A, B and C.")
    signature: str | None = Field(description="Ends every e-mail draft (not the one-line notes).")


class WorkspaceUpdate(PatchModel):
    """Workspace preferences; a cadence set to null goes back to the service default, a signature
    set to null or to "" is removed."""

    not_nullable: ClassVar[frozenset[str]] = frozenset({"default_tier"})

    default_tier: TierText | None = None
    cadence_a_days: CadenceDays | None = None
    cadence_b_days: CadenceDays | None = None
    cadence_c_days: CadenceDays | None = None
    signature: Signature | None = Field(
        default=None,
        description="Added at the end of every e-mail draft: up to 8 lines, 500 characters.",
        examples=["Best,\nSam Rivera\nPeople Partner, Northwind"],
    )

    @field_validator("signature")
    @classmethod
    def _empty_is_none(cls, signature: str | None) -> str | None:
        return signature or None
