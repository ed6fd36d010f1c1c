"""ids never reused; a daily list's coming-up contacts by foreign key

SQLite reuses the id of a deleted or rolled-back row unless its table is declared AUTOINCREMENT,
and the only way to declare it is to rebuild the table. ``app.db.migrate`` turns foreign keys off
while migrations run (a rebuild drops the old table, which would otherwise cascade) and checks
them all afterwards. PostgreSQL sequences never reuse ids: nothing to rebuild there.

The coming-up contacts of a daily list were a JSON list of bare ids; they become rows with a
foreign key, so a deleted contact takes its rows with it. Ids that no longer name a contact of
the list's workspace are dropped on the way.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 14:30:00
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "workspaces",
    "api_keys",
    "contacts",
    "pain_points",
    "expertise",
    "articles",
    "gives",
    "asks",
    "suggestions",
    "daily_lists",
    "daily_items",
)

COMING_UP = sa.table(
    "daily_coming_up",
    sa.column("daily_list_id", sa.Integer()),
    sa.column("day", sa.Date()),
    sa.column("position", sa.Integer()),
    sa.column("contact_id", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "daily_coming_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("daily_list_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["daily_list_id"], ["daily_lists.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("daily_coming_up") as batch_op:
        batch_op.create_index("ix_daily_coming_up_daily_list_id", ["daily_list_id"])
        batch_op.create_index("ix_daily_coming_up_contact_id", ["contact_id"])
    _move_coming_up_to_rows()
    with op.batch_alter_table("daily_lists") as batch_op:
        batch_op.drop_column("coming_up")

    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass


def _move_coming_up_to_rows() -> None:
    bind = op.get_bind()
    lists = sa.table(
        "daily_lists",
        sa.column("id", sa.Integer()),
        sa.column("workspace_id", sa.Integer()),
        sa.column("coming_up", sa.JSON()),
    )
    contacts = sa.table(
        "contacts", sa.column("id", sa.Integer()), sa.column("workspace_id", sa.Integer())
    )
    rows: list[dict[str, Any]] = []
    for list_id, workspace_id, coming_up in bind.execute(
        sa.select(lists.c.id, lists.c.workspace_id, lists.c.coming_up)
    ):
        wanted = {cid for entry in coming_up or [] for cid in entry.get("contact_ids", [])}
        present = set(
            bind.scalars(
                sa.select(contacts.c.id).where(
                    contacts.c.workspace_id == workspace_id, contacts.c.id.in_(wanted)
                )
            )
        )
        for entry in coming_up or []:
            day = date.fromisoformat(entry["day"])
            kept = [cid for cid in entry.get("contact_ids", []) if cid in present]
            rows += [
                {"daily_list_id": list_id, "day": day, "position": n, "contact_id": cid}
                for n, cid in enumerate(kept)
            ]
    if rows:
        op.bulk_insert(COMING_UP, rows)


def downgrade() -> None:
    """Coming-up rows back into the JSON column (the tables keep AUTOINCREMENT: it is harmless)."""
    with op.batch_alter_table("daily_lists") as batch_op:
        batch_op.add_column(sa.Column("coming_up", sa.JSON(), nullable=False, server_default="[]"))
    bind = op.get_bind()
    rows = COMING_UP
    by_list: dict[int, dict[date, list[int]]] = {}
    for list_id, day, contact_id in bind.execute(
        sa.select(rows.c.daily_list_id, rows.c.day, rows.c.contact_id).order_by(
            rows.c.daily_list_id, rows.c.day, rows.c.position
        )
    ):
        by_list.setdefault(list_id, {}).setdefault(day, []).append(contact_id)
    lists = sa.table(
        "daily_lists", sa.column("id", sa.Integer()), sa.column("coming_up", sa.JSON())
    )
    for list_id, days in by_list.items():
        entries = [{"day": d.isoformat(), "contact_ids": ids} for d, ids in days.items()]
        bind.execute(sa.update(lists).where(lists.c.id == list_id).values(coming_up=entries))
    op.drop_table("daily_coming_up")
