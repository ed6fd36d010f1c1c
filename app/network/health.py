"""The network's health: plain functions over the records (no HTTP, no database, no model).

``measure`` takes what the records say (contacts with their resolved field, the ledger, the
stored daily lists) and answers "is my network alive, spread wide enough, and am I a giver?".
The seeds behind it: neglect does more damage than dislike (the cadence and neglect figures), a
network of one kind of person fails you when you need to move (the spread), and every ask
should be met with a give (the giving figures).
"""

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from app.network.config import HealthConfig
from app.network.families import DEFAULT_FLOOR, FieldGuess, FieldSource
from app.network.schemas import (
    Bucket,
    Cadence,
    CadenceCounts,
    CadencePoint,
    Distribution,
    FieldBucket,
    FieldDistribution,
    GiftGap,
    Giving,
    Neglect,
    NeglectedContact,
    NetworkHealth,
    NetworkSuggestions,
    Spread,
    TakerContact,
    TierCadence,
)
from app.workspaces.service import Cadences

TIERS = ("A", "B", "C")
CHECK_IN = "check_in"  # a give that is a touch but not a gift


@dataclass(frozen=True, slots=True)
class ContactFacts:
    id: int
    name: str
    tier: str
    company: str | None
    title: str | None
    field: FieldGuess
    added_on: date  # the local day the contact was created
    last_touch_on: date | None


@dataclass(frozen=True)
class NetworkRecords:
    """One workspace's records, as the figures need them."""

    contacts: Sequence[ContactFacts]
    gives: Sequence[tuple[int, date, str]]  # contact id, given on, kind
    asks: Sequence[tuple[int, date]]  # contact id, asked on
    lists: Sequence[tuple[date, int]] = ()  # stored daily lists: day, contacts due that day
    inference_floor: float = DEFAULT_FLOOR  # what the contacts' fields were inferred with


@dataclass(frozen=True, slots=True)
class _Standing:
    """Where one contact stands today."""

    contact: ContactFacts
    cadence_days: int
    due_on: date
    days_without_touch: int

    @property
    def weight(self) -> float:
        return self.days_without_touch / self.cadence_days

    def ref(self) -> dict[str, Any]:
        c = self.contact
        return {
            "id": c.id,
            "name": c.name,
            "tier": c.tier,
            "company": c.company,
            "field": c.field.field,
            "field_source": c.field.source,
            "last_touch_on": c.last_touch_on,
            "due_on": self.due_on,
            "days_without_touch": self.days_without_touch,
        }

    def neglected(self) -> NeglectedContact:
        return NeglectedContact(**self.ref(), cadences_without_touch=round(self.weight, 2))


def measure(
    records: NetworkRecords, *, cadences: Cadences, today: date, config: HealthConfig
) -> NetworkHealth:
    """Every figure of the network's health on ``today``."""
    contacts = sorted(records.contacts, key=lambda c: c.id)
    standings = [_standing(c, cadences, today) for c in contacts]
    spread = _spread(records, contacts, config)
    return NetworkHealth(
        date=today,
        contacts=len(contacts),
        cadence=Cadence(
            overall=_counts(standings, today),
            tiers=[
                TierCadence(
                    tier=tier,
                    cadence_days=cadences.days(tier),
                    **_counts([s for s in standings if s.contact.tier == tier], today).model_dump(),
                )
                for tier in TIERS
            ],
            history=_history(contacts, records, cadences, today, config.history_weeks),
        ),
        neglect=_neglect(standings, records, today, config),
        giving=_giving(contacts, records, today, config),
        spread=spread,
        suggestions=_suggestions(standings, records, spread, today, config),
    )


def _standing(contact: ContactFacts, cadences: Cadences, today: date) -> _Standing:
    cadence = cadences.days(contact.tier)
    last = contact.last_touch_on
    due_on = last + timedelta(days=cadence) if last else contact.added_on
    since = last or contact.added_on
    return _Standing(contact, cadence, due_on, max(0, (today - since).days))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _ledger_touches(records: NetworkRecords) -> Iterator[tuple[int, date]]:
    """(contact id, day) of every give and ask."""
    for contact_id, day, _ in records.gives:
        yield contact_id, day
    yield from records.asks


def _by_neglect(standing: _Standing) -> tuple[float, int, int]:
    return (-standing.weight, TIERS.index(standing.contact.tier), standing.contact.id)


# -- cadence -------------------------------------------------------------------------------------


def _counts(standings: Sequence[_Standing], today: date) -> CadenceCounts:
    touched = [s for s in standings if s.contact.last_touch_on is not None]
    in_cadence = sum(1 for s in touched if s.due_on > today)
    late = [(today - s.due_on).days for s in touched if s.due_on < today]
    return CadenceCounts(
        contacts=len(standings),
        in_cadence=in_cadence,
        due=len(touched) - in_cadence,
        overdue=len(late),
        overdue_days_median=float(statistics.median(late)) if late else None,
        overdue_days_worst=max(late) if late else None,
        never_contacted=len(standings) - len(touched),
        share_in_cadence=_share(in_cadence, len(standings)),
    )


def _history(
    contacts: Sequence[ContactFacts],
    records: NetworkRecords,
    cadences: Cadences,
    today: date,
    weeks: int,
) -> list[CadencePoint]:
    """The share in cadence at the end of each week: at each day, a contact added by then was in
    cadence if one of its known touches (its ledger's gives and asks, and its last touch) falls
    within its tier's cadence before the day."""
    position = {c.id: i for i, c in enumerate(contacts)}
    owners: list[int] = []
    days: list[int] = []
    for c in contacts:
        if c.last_touch_on is not None:
            owners.append(position[c.id])
            days.append(c.last_touch_on.toordinal())
    for contact_id, day in _ledger_touches(records):
        if contact_id in position:
            owners.append(position[contact_id])
            days.append(day.toordinal())
    owner = np.array(owners, dtype=np.int64)
    touch_day = np.array(days, dtype=np.int64)
    reach = np.array([cadences.days(c.tier) for c in contacts], dtype=np.int64)[owner]
    added = np.array([c.added_on.toordinal() for c in contacts], dtype=np.int64)
    lists = sorted(records.lists)
    points = []
    for back in range(weeks - 1, -1, -1):
        end = today - timedelta(weeks=back)
        end_day = end.toordinal()
        recent = (touch_day <= end_day) & (touch_day > end_day - reach)
        kept = np.zeros(len(contacts), dtype=bool)
        kept[owner[recent]] = True
        present = added <= end_day
        total = int(present.sum())
        in_cadence = int((kept & present).sum())
        week_lists = [due for on, due in lists if end - timedelta(days=7) < on <= end]
        points.append(
            CadencePoint(
                week_ending=end,
                contacts=total,
                in_cadence=in_cadence,
                share_in_cadence=_share(in_cadence, total),
                listed_due=week_lists[-1] if week_lists else None,
            )
        )
    return points


# -- neglect -------------------------------------------------------------------------------------


def _neglect(
    standings: Sequence[_Standing], records: NetworkRecords, today: date, config: HealthConfig
) -> Neglect:
    horizon = today + timedelta(days=config.horizon_days)
    due = sorted((s for s in standings if s.due_on <= today), key=_by_neglect)
    falling_due = sum(
        1 for s in standings if s.contact.last_touch_on is not None and today < s.due_on <= horizon
    )
    since = today - timedelta(days=config.recent_days)
    touches = {(c.id, c.last_touch_on) for c in (s.contact for s in standings) if c.last_touch_on}
    touches.update(_ledger_touches(records))
    recent = sum(1 for _, day in touches if since < day <= today)
    pace = recent * config.horizon_days / config.recent_days
    reached = max(0, math.floor(pace) - len(due))
    return Neglect(
        longest_without_touch=[s.neglected() for s in due[: config.list_limit]],
        due_now=len(due),
        falling_due=falling_due,
        horizon_days=config.horizon_days,
        touches_last_90_days=recent,
        pace_per_horizon=round(pace, 2),
        would_fall_out=max(0, falling_due - reached),
    )


# -- giving --------------------------------------------------------------------------------------


def _giving(
    contacts: Sequence[ContactFacts], records: NetworkRecords, today: date, config: HealthConfig
) -> Giving:
    since = today - timedelta(days=config.recent_days)
    gives = Counter(contact_id for contact_id, *_ in records.gives)
    asks = Counter(contact_id for contact_id, _ in records.asks)
    takers = sorted(
        (c for c in contacts if asks[c.id] > gives[c.id]),
        key=lambda c: (gives[c.id] - asks[c.id], -asks[c.id], c.id),
    )
    given_to = sum(1 for c in contacts if gives[c.id])
    return Giving(
        gives_last_90_days=sum(1 for _, day, _ in records.gives if since < day <= today),
        asks_last_90_days=sum(1 for _, day in records.asks if since < day <= today),
        gives_all_time=len(records.gives),
        asks_all_time=len(records.asks),
        takers=len(takers),
        taker_contacts=[
            TakerContact(id=c.id, name=c.name, tier=c.tier, gives=gives[c.id], asks=asks[c.id])
            for c in takers[: config.list_limit]
        ],
        contacts_given_to=given_to,
        share_given_to=_share(given_to, len(contacts)),
    )


# -- spread --------------------------------------------------------------------------------------

_SENIORITY = (
    (
        "executive",
        r"chief|ceo|cfo|coo|cto|cio|cmo|chro|cpo|cno|president|vp|svp|evp|avp|founder"
        r"|co-founder|owner|partner|managing director|general manager",
    ),
    ("director", r"director|head"),
    ("manager", r"manager|lead|leader|supervisor"),
)
_SENIORITY_PATTERNS = tuple(
    (level, re.compile(rf"\b(?:{words})\b", re.IGNORECASE)) for level, words in _SENIORITY
)


def seniority(title: str | None) -> str | None:
    """executive, director, manager or individual contributor, from the title's words."""
    if not title or not title.strip():
        return None
    for level, pattern in _SENIORITY_PATTERNS:
        if pattern.search(title):
            return level
    return "individual contributor"


def field_key(name: str) -> str:
    """How two spellings of a field are told to be the same field."""
    return " ".join(name.split()).casefold()


class _Groups:
    """Contacts grouped by a value (case and spacing ignored), the first spelling naming it."""

    def __init__(self, values: Sequence[str | None]) -> None:
        self.names: dict[str, str] = {}
        self.members: dict[str, list[int]] = {}
        self.unknown = 0
        for i, value in enumerate(values):
            key = field_key(value) if value else ""
            if not value or not key:
                self.unknown += 1
                continue
            self.names.setdefault(key, " ".join(value.split()))
            self.members.setdefault(key, []).append(i)
        self.known = len(values) - self.unknown
        self.ranked = sorted(self.members, key=lambda k: (-len(self.members[k]), self.names[k]))

    def share(self, key: str) -> float:
        return round(len(self.members[key]) / self.known, 4)

    def figures(self) -> dict[str, Any]:
        shares = [len(m) / self.known for m in self.members.values()]
        return {
            "known": self.known,
            "unknown": self.unknown,
            "distinct": len(self.members),
            "largest_share": round(max(shares), 4) if shares else None,
            "hhi": round(sum(s * s for s in shares), 4) if shares else None,
        }

    def distribution(self, limit: int) -> Distribution:
        buckets = [
            Bucket(name=self.names[k], contacts=len(self.members[k]), share=self.share(k))
            for k in self.ranked[:limit]
        ]
        return Distribution(**self.figures(), buckets=buckets)


def _field_bucket(groups: _Groups, key: str, contacts: Sequence[ContactFacts]) -> FieldBucket:
    members = [contacts[i].field for i in groups.members[key]]
    inferred = [g.confidence for g in members if g.source is FieldSource.INFERRED]
    return FieldBucket(
        name=groups.names[key],
        contacts=len(members),
        share=groups.share(key),
        from_user=len(members) - len(inferred),
        inferred=len(inferred),
        mean_confidence=round(statistics.fmean(inferred), 4) if inferred else None,
    )


def _spread(
    records: NetworkRecords, contacts: Sequence[ContactFacts], config: HealthConfig
) -> Spread:
    fields = _Groups([c.field.field for c in contacts])
    sources = Counter(c.field.source for c in contacts)
    field_distribution = FieldDistribution(
        **fields.figures(),
        buckets=[_field_bucket(fields, k, contacts) for k in fields.ranked[: config.list_limit]],
        from_user=sources[FieldSource.USER],
        inferred=sources[FieldSource.INFERRED],
        inference_floor=records.inference_floor,
    )
    dominant = fields.ranked[0] if fields.ranked else None
    warning = None
    if (
        dominant is None
        or fields.known < config.dominant_min_contacts
        or fields.share(dominant) < config.dominant_share
    ):
        dominant = None
    else:
        name, count = fields.names[dominant], len(fields.members[dominant])
        warning = (
            f"{fields.share(dominant):.0%} of your network ({count} of {fields.known} contacts "
            f"with a known field) is in {name}. A network of one kind of person fails you when "
            f"you need to move: reconnect first with your contacts outside {name}, and meet "
            "people in other fields."
        )
    return Spread(
        fields=field_distribution,
        companies=_Groups([c.company for c in contacts]).distribution(config.list_limit),
        seniority=_Groups([seniority(c.title) for c in contacts]).distribution(config.list_limit),
        dominant_field=fields.names[dominant] if dominant else None,
        warning=warning,
    )


# -- suggestions for the network itself ----------------------------------------------------------


def _suggestions(
    standings: Sequence[_Standing],
    records: NetworkRecords,
    spread: Spread,
    today: date,
    config: HealthConfig,
) -> NetworkSuggestions:
    horizon = today + timedelta(days=config.horizon_days)
    reconnect: list[_Standing] = []
    if spread.dominant_field is not None:
        dominant = field_key(spread.dominant_field)
        reconnect = sorted(
            (
                s
                for s in standings
                if s.contact.field.field
                and field_key(s.contact.field.field) != dominant
                and s.due_on <= horizon
            ),
            key=_by_neglect,
        )
    last_gift: dict[int, date] = {}
    for contact_id, day, kind in records.gives:
        if kind != CHECK_IN and day > last_gift.get(contact_id, date.min):
            last_gift[contact_id] = day
    year_ago = today - timedelta(days=config.gift_days)
    without_gift = sorted(
        (
            s
            for s in standings
            if s.contact.tier == "A" and last_gift.get(s.contact.id, date.min) <= year_ago
        ),
        key=lambda s: (last_gift.get(s.contact.id, date.min), s.contact.id),
    )
    return NetworkSuggestions(
        reconnect_first=len(reconnect),
        reconnect_first_contacts=[s.neglected() for s in reconnect[: config.list_limit]],
        tier_a_without_gift=len(without_gift),
        tier_a_without_gift_contacts=[
            GiftGap(**s.ref(), last_gift_on=last_gift.get(s.contact.id))
            for s in without_gift[: config.list_limit]
        ],
    )
