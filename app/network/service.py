"""The network's health for one workspace: read its records, resolve fields, measure."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import Result
from sqlalchemy.orm import Session

from app.models import Ask, Contact, DailyList, Expertise, Give, Workspace
from app.network.config import HealthConfig
from app.network.families import DEFAULT_FLOOR, FieldInference, profile_text, resolve_fields
from app.network.health import ContactColumns, LedgerColumns, NetworkRecords, measure
from app.network.schemas import NetworkHealth
from app.scoped import scoped
from app.workspaces.service import CadenceDefaults, Cadences, cadences_for
from embeddings.embedder import Embedder


def local_days(moments: Sequence[datetime]) -> list[date]:
    """The local day of each moment, as ``next_due_on`` counts it (``astimezone().date()``).

    The local offset is looked up once per UTC day, not once per moment: ``astimezone()`` asks
    the C library every time, which was half the read of 10,000 contacts. A day whose offset
    changes (a daylight-saving switch) is converted moment by moment.
    """
    offsets: dict[date, timedelta | None] = {}
    days = []
    for moment in moments:
        utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
        day = utc.date()
        if day not in offsets:
            start = datetime.combine(day, time(), UTC)
            first = start.astimezone().utcoffset()
            last = (start + timedelta(days=1)).astimezone().utcoffset()
            offsets[day] = first if first == last else None
        offset = offsets[day]
        days.append((utc + offset).date() if offset is not None else utc.astimezone().date())
    return days


def load_records(
    *, session: Session, workspace: Workspace, inference: FieldInference | None
) -> NetworkRecords:
    """The workspace's contacts (fields resolved), ledger and stored lists, as plain values.

    Columns, not records, read through the session's connection (no ORM row loading) a
    thousand rows at a time: no row outlives its batch, so a read of 10,000 contacts does not
    set off the garbage collector's full passes (see ``ContactColumns``). Expertise is read only
    when a contact without a field is to be inferred.
    """
    connection = session.connection()
    ids, names, tiers, companies, titles, user_fields, created, last_touch = _columns(
        connection.execute(
            scoped(Contact, workspace.id)
            .with_only_columns(
                Contact.id,
                Contact.name,
                Contact.tier,
                Contact.company,
                Contact.title,
                Contact.field,
                Contact.created_at,
                Contact.last_contacted_on,
            )
            .order_by(Contact.id)
        ),
        8,
    )
    texts = [""] * len(ids)
    if inference is not None and not all(f and f.strip() for f in user_fields):
        expertise: dict[int, list[str]] = {}
        for contact_id, text in connection.execute(
            scoped(Expertise, workspace.id)
            .with_only_columns(Expertise.contact_id, Expertise.text)
            .order_by(Expertise.contact_id, Expertise.position)
        ):
            expertise.setdefault(contact_id, []).append(text)
        texts = [
            profile_text(title, company, expertise.get(contact_id, ()))
            for contact_id, title, company in zip(ids, titles, companies, strict=True)
        ]
    contacts = ContactColumns(
        ids=ids,
        names=names,
        tiers=tiers,
        companies=companies,
        titles=titles,
        fields=resolve_fields(user_fields, texts, inference),
        added_on=local_days(created),
        last_touch_on=last_touch,
    )
    give_ids, given_on, kinds = _columns(
        connection.execute(
            scoped(Give, workspace.id).with_only_columns(Give.contact_id, Give.given_on, Give.kind)
        ),
        3,
    )
    ask_ids, asked_on = _columns(
        connection.execute(
            scoped(Ask, workspace.id).with_only_columns(Ask.contact_id, Ask.asked_on)
        ),
        2,
    )
    lists = connection.execute(
        scoped(DailyList, workspace.id).with_only_columns(DailyList.day, DailyList.due_count)
    )
    return NetworkRecords(
        contacts=contacts,
        gives=LedgerColumns(give_ids, given_on, kinds),
        asks=LedgerColumns(ask_ids, asked_on),
        lists=lists.all(),
        inference_floor=inference.floor if inference is not None else DEFAULT_FLOOR,
    )


def _columns(result: Result[*tuple[Any, ...]], width: int) -> list[list[Any]]:
    """The result's columns, read a thousand rows at a time."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for rows in result.partitions(1000):
        for column, values in zip(columns, zip(*rows, strict=True), strict=True):
            column.extend(values)
    return columns


def network_health(
    *,
    session: Session,
    workspace: Workspace,
    cadences: Cadences,
    inference: FieldInference | None,
    today: date,
    config: HealthConfig | None = None,
) -> NetworkHealth:
    """Every figure of the workspace's network health on ``today``."""
    records = load_records(session=session, workspace=workspace, inference=inference)
    return measure(records, cadences=cadences, today=today, config=config or HealthConfig())


class HealthSettings(CadenceDefaults, Protocol):
    """What the health reads of the service's settings (``app.config.Settings`` is one)."""

    @property
    def field_inference_floor(self) -> float: ...
    def health_config(self) -> HealthConfig: ...


def workspace_health(
    *,
    session: Session,
    workspace: Workspace,
    embedder: Embedder,
    settings: HealthSettings,
    today: date,
) -> NetworkHealth:
    """The health as the API and the nightly digest show it: the workspace's cadences, fields
    inferred with ``embedder``, the settings' knobs."""
    return network_health(
        session=session,
        workspace=workspace,
        cadences=cadences_for(workspace, settings),
        inference=FieldInference(embedder, floor=settings.field_inference_floor),
        today=today,
        config=settings.health_config(),
    )
