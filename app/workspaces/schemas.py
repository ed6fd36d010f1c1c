"""Request and response bodies of the workspace resource."""

from typing import Annotated, ClassVar

from pydantic import BaseModel, Field

from app.schemas import PatchModel, Tier

CadenceDays = Annotated[int, Field(ge=1, le=3650)]


class WorkspacePublic(BaseModel):
    name: str
    default_tier: str
    cadence_days: dict[str, int] = Field(description="Days between touches for tiers A, B and C.")


class WorkspaceUpdate(PatchModel):
    """Workspace preferences; a cadence set to null goes back to the service default."""

    not_nullable: ClassVar[frozenset[str]] = frozenset({"default_tier"})

    default_tier: Tier | None = None
    cadence_a_days: CadenceDays | None = None
    cadence_b_days: CadenceDays | None = None
    cadence_c_days: CadenceDays | None = None
