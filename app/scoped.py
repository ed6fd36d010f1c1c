"""Reads scoped to one workspace: the one place where an id becomes a record.

An id that comes from outside the query (a URL path, a hit of the vector index, a stored list,
an uploaded document) is looked up here, with the workspace condition in the SQL itself. A record
of another workspace is never loaded, whatever the id, whether the index is in step or not.
"""

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app import models

# Every record that belongs to a workspace (a ``workspace_id`` column).
Owned = TypeVar(
    "Owned",
    models.Article,
    models.Ask,
    models.Contact,
    models.DailyList,
    models.Feed,
    models.FeedItem,
    models.Expertise,
    models.Give,
    models.PainPoint,
    models.Suggestion,
    models.Touch,
    models.UsedActionToken,
)


# The largest id an ``Integer`` primary key holds on PostgreSQL (``integer``, 4 bytes); SQLite's
# hold 8. A larger id from outside names no record, and PostgreSQL refuses to compare it.
POSTGRESQL_MAX_ID = 2**31 - 1


def _possible(session: Session, record_ids: Iterable[int]) -> set[int]:
    """The ids among ``record_ids`` that the database's id column can hold."""
    if session.get_bind().dialect.name == "postgresql":
        return {i for i in record_ids if i <= POSTGRESQL_MAX_ID}
    return set(record_ids)


def scoped(model: type[Owned], workspace_id: int) -> Select[Owned]:
    """``select(model)`` limited to one workspace's records."""
    return select(model).where(model.workspace_id == workspace_id)


def get_scoped(
    session: Session, model: type[Owned], workspace_id: int, record_id: int
) -> Owned | None:
    """The record with this id if it belongs to the workspace; None otherwise."""
    if not _possible(session, [record_id]):
        return None
    return session.scalar(scoped(model, workspace_id).where(model.id == record_id))


def load_scoped(
    session: Session, model: type[Owned], workspace_id: int, record_ids: Iterable[int]
) -> dict[int, Owned]:
    """The workspace's records among ``record_ids``, by id; ids of other workspaces are left out."""
    wanted = _possible(session, record_ids)
    if not wanted:
        return {}
    query = scoped(model, workspace_id).where(model.id.in_(wanted))
    return {record.id: record for record in session.scalars(query)}
