"""One paginator for every list: a page of a query's rows and how many rows match in all."""

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def paginate(
    session: Session,
    query: Select[Row],
    *,
    limit: int | None,
    offset: int = 0,
    keep: Callable[[Row], bool] | None = None,
) -> tuple[list[Row], int]:
    """The rows ``offset`` to ``offset + limit`` of ``query`` (all from ``offset`` when ``limit``
    is None) and the number of rows that match.

    ``keep`` is a condition the database cannot evaluate portably (a JSON list's member, a due
    day computed per record): it runs in Python over every row of the query, so give it a query
    already narrowed to one workspace.
    """
    if keep is not None:
        matching = [row for row in session.scalars(query) if keep(row)]
        end = None if limit is None else offset + limit
        return matching[offset:end], len(matching)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = query.offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list(session.scalars(page)), total
