"""HTTP routes of the caller's own workspace."""

from fastapi import APIRouter

from app.deps import SessionDep, SettingsDep, WorkspaceDep
from app.models import Tier, Workspace
from app.workspaces.schemas import WorkspacePublic, WorkspaceUpdate
from app.workspaces.service import Cadences, cadences_for

router = APIRouter(prefix="/workspace", tags=["workspace"])


def _public(workspace: Workspace, cadences: Cadences) -> WorkspacePublic:
    return WorkspacePublic(
        name=workspace.name,
        default_tier=workspace.default_tier,
        cadence_days={tier: cadences.days(tier) for tier in Tier},
        signature=workspace.signature,
    )


@router.get("")
def get_workspace(workspace: WorkspaceDep, settings: SettingsDep) -> WorkspacePublic:
    """The workspace's preferences: its default tier, the cadence of each tier (its own or the
    service's default) and the signature that ends e-mail drafts."""
    return _public(workspace, cadences_for(workspace, settings))


@router.patch("")
def update_workspace(
    data: WorkspaceUpdate, session: SessionDep, workspace: WorkspaceDep, settings: SettingsDep
) -> WorkspacePublic:
    """Change the workspace's preferences: only the fields sent change. A cadence set to null goes
    back to the service's default; a signature set to null or "" is removed."""
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(workspace, name, value)
    session.flush()
    return _public(workspace, cadences_for(workspace, settings))
