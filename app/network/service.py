"""The network's health for one workspace: read its records, resolve fields, measure."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Ask, Contact, DailyList, Expertise, Give, Workspace
from app.network.config import HealthConfig
from app.network.families import DEFAULT_FLOOR, FieldInference, profile_text, resolve_fields
from app.network.health import ContactFacts, NetworkRecords, measure
from app.network.schemas import NetworkHealth
from app.scoped import scoped
from app.workspaces.service import Cadences, cadences_for
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

    Columns, not records, and through the session's connection (no ORM row loading, which
    doubles the read): the figures read 10,000 contacts in a few tens of milliseconds. Expertise
    is read only when a contact without a field is to be inferred.
    """
    connection = session.connection()
    rows = connection.execute(
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
    ).all()
    user_fields = [row.field for row in rows]
    texts = [""] * len(rows)
    if inference is not None and not all(f and f.strip() for f in user_fields):
        expertise: dict[int, list[str]] = {}
        for contact_id, text in connection.execute(
            scoped(Expertise, workspace.id)
            .with_only_columns(Expertise.contact_id, Expertise.text)
            .order_by(Expertise.contact_id, Expertise.position)
        ):
            expertise.setdefault(contact_id, []).append(text)
        texts = [profile_text(r.title, r.company, expertise.get(r.id, ())) for r in rows]
    fields = resolve_fields(user_fields, texts, inference)
    contacts = [
        ContactFacts(
            id=row.id,
            name=row.name,
            tier=row.tier,
            company=row.company,
            title=row.title,
            field=field,
            added_on=added_on,
            last_touch_on=row.last_contacted_on,
        )
        for row, field, added_on in zip(
            rows, fields, local_days([row.created_at for row in rows]), strict=True
        )
    ]
    gives = connection.execute(
        scoped(Give, workspace.id).with_only_columns(Give.contact_id, Give.given_on, Give.kind)
    )
    asks = connection.execute(
        scoped(Ask, workspace.id).with_only_columns(Ask.contact_id, Ask.asked_on)
    )
    lists = connection.execute(
        scoped(DailyList, workspace.id).with_only_columns(DailyList.day, DailyList.due_count)
    )
    return NetworkRecords(
        contacts=contacts,
        gives=gives.all(),
        asks=asks.all(),
        lists=lists.all(),
        inference_floor=inference.floor if inference is not None else DEFAULT_FLOOR,
    )


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


def workspace_health(
    *, session: Session, workspace: Workspace, embedder: Embedder, settings: Settings, today: date
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
