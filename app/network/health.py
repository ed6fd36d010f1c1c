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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from app.models import GiveKind, Tier
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

TIERS = tuple(Tier)  # A first
_EPOCH = date(1970, 1, 1)  # days are counted from it
_NEVER = np.iinfo(np.int64).min // 2  # the day of a gift never given


@dataclass(frozen=True)
class ContactColumns:
    """The contacts, a column per attribute, in the order of their ids.

    Columns, not an object per contact: a read of 10,000 contacts that keeps 10,000 objects
    alive sets off the garbage collector's full passes over the process, which cost more than
    the read (``docs/benchmarks.md``, section 6).
    """

    ids: Sequence[int]
    names: Sequence[str]
    tiers: Sequence[str]
    companies: Sequence[str | None]
    titles: Sequence[str | None]
    fields: Sequence[FieldGuess]
    added_on: Sequence[date]  # the local day each contact was created
    last_touch_on: Sequence[date | None]


@dataclass(frozen=True)
class LedgerColumns:
    """Gives or asks, a column per attribute."""

    contact_ids: Sequence[int]
    days: Sequence[date]
    kinds: Sequence[str] = ()  # gives only: each a GiveKind


@dataclass(frozen=True)
class NetworkRecords:
    """One workspace's records, as the figures need them."""

    contacts: ContactColumns
    gives: LedgerColumns
    asks: LedgerColumns
    lists: Sequence[tuple[date, int]] = ()  # stored daily lists: day, contacts due that day
    inference_floor: float = DEFAULT_FLOOR  # what the contacts' fields were inferred with


Days = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


def _days(values: Sequence[date | None]) -> tuple[Days, Mask]:
    """Days since 1970 (0 where None), and where there was a day."""
    # toordinal in a list is 20 times faster than numpy's own conversion of date objects.
    epoch = _EPOCH.toordinal()
    days = np.array([v.toordinal() - epoch if v else 0 for v in values], dtype=np.int64)
    return days, np.array([v is not None for v in values], dtype=bool)


def _day(days: int | np.integer[Any]) -> date:
    return _EPOCH + timedelta(days=int(days))


class _Network:
    """The records as arrays, one row per contact (by id): where each contact stands today."""

    def __init__(self, records: NetworkRecords, cadences: Cadences, today: date) -> None:
        self.contacts = contacts = records.contacts
        self.size = len(contacts.ids)
        self.today = (today - _EPOCH).days
        self.ids = np.array(contacts.ids, dtype=np.int64)
        if np.any(np.diff(self.ids) <= 0):
            raise ValueError("the contacts must come in the order of their ids")
        numbers: dict[str, int] = {tier: number for number, tier in enumerate(TIERS)}
        self.tier = np.array([numbers[t] for t in contacts.tiers], dtype=np.int64)
        self.cadence = np.array([cadences.days(t) for t in TIERS], dtype=np.int64)[self.tier]
        self.last, self.touched = _days(contacts.last_touch_on)
        self.added, _ = _days(contacts.added_on)
        self.due = np.where(self.touched, self.last + self.cadence, self.added)
        since = np.where(self.touched, self.last, self.added)
        self.days_without = np.maximum(0, self.today - since)
        self.weight = self.days_without / self.cadence
        self.give_owner, self.give_day, kept = self._ledger(records.gives)
        # A check-in is a touch, not a gift.
        self.gift = np.array(records.gives.kinds, dtype=object)[kept] != GiveKind.check_in
        self.ask_owner, self.ask_day, _ = self._ledger(records.asks)

    def _ledger(self, ledger: LedgerColumns) -> tuple[npt.NDArray[np.int64], Days, Mask]:
        """The rows of the ledger entries' contacts, and their days (entries of contacts not in
        the records are dropped), and which entries were kept."""
        wanted = np.array(ledger.contact_ids, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self.ids, wanted), max(len(self.ids) - 1, 0))
        kept = self.ids[rows] == wanted if len(self.ids) else np.zeros(len(wanted), dtype=bool)
        return rows[kept], _days(ledger.days)[0][kept], kept

    def touches(self) -> tuple[npt.NDArray[np.int64], Days]:
        """Every known touch: each contact's last one, and its ledger's gives and asks."""
        touched = np.flatnonzero(self.touched)
        return (
            np.concatenate([touched, self.give_owner, self.ask_owner]),
            np.concatenate([self.last[touched], self.give_day, self.ask_day]),
        )

    def by_neglect(self, mask: Mask) -> npt.NDArray[np.int64]:
        """The rows of ``mask``, most cadences without a touch first (then tier A first)."""
        rows = np.flatnonzero(mask)
        return rows[np.lexsort((self.ids[rows], self.tier[rows], -self.weight[rows]))]

    def ref(self, row: int) -> dict[str, Any]:
        c = self.contacts
        return {
            "id": c.ids[row],
            "name": c.names[row],
            "tier": c.tiers[row],
            "company": c.companies[row],
            "field": c.fields[row].field,
            "field_source": c.fields[row].source,
            "last_touch_on": c.last_touch_on[row],
            "due_on": _day(self.due[row]),
            "days_without_touch": int(self.days_without[row]),
        }

    def neglected(self, rows: npt.NDArray[np.int64]) -> list[NeglectedContact]:
        return [
            NeglectedContact(**self.ref(row), cadences_without_touch=round(self.weight[row], 2))
            for row in rows
        ]


def measure(
    records: NetworkRecords, *, cadences: Cadences, today: date, config: HealthConfig
) -> NetworkHealth:
    """Every figure of the network's health on ``today``."""
    network = _Network(records, cadences, today)
    everyone = np.ones(network.size, dtype=bool)
    spread, fields = _spread(network, records, config)
    return NetworkHealth(
        date=today,
        contacts=network.size,
        cadence=Cadence(
            overall=_counts(network, everyone),
            tiers=[
                TierCadence(
                    tier=tier,
                    cadence_days=cadences.days(tier),
                    **_counts(network, network.tier == number).model_dump(),
                )
                for number, tier in enumerate(TIERS)
            ],
            history=_history(network, records, today, config.history_weeks),
        ),
        neglect=_neglect(network, config),
        giving=_giving(network, config),
        spread=spread,
        suggestions=_suggestions(network, fields, config),
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# -- cadence -------------------------------------------------------------------------------------


def _counts(network: _Network, mask: Mask) -> CadenceCounts:
    touched = network.touched & mask
    in_cadence = int((touched & (network.due > network.today)).sum())
    late = (network.today - network.due)[touched & (network.due < network.today)]
    contacts, touched_count = int(mask.sum()), int(touched.sum())
    return CadenceCounts(
        contacts=contacts,
        in_cadence=in_cadence,
        due=touched_count - in_cadence,
        overdue=len(late),
        overdue_days_median=float(np.median(late)) if len(late) else None,
        overdue_days_worst=int(late.max()) if len(late) else None,
        never_contacted=contacts - touched_count,
        share_in_cadence=_share(in_cadence, contacts),
    )


def _history(
    network: _Network, records: NetworkRecords, today: date, weeks: int
) -> list[CadencePoint]:
    """The share in cadence at the end of each week: at each day, a contact added by then was in
    cadence if one of its known touches (its ledger's gives and asks, and its last touch) falls
    within its tier's cadence before the day."""
    owner, touch_day = network.touches()
    reach = network.cadence[owner]
    lists = sorted(records.lists)
    points = []
    for back in range(weeks - 1, -1, -1):
        end = today - timedelta(weeks=back)
        end_day = network.today - 7 * back
        recent = (touch_day <= end_day) & (touch_day > end_day - reach)
        kept = np.zeros(network.size, dtype=bool)
        kept[owner[recent]] = True
        present = network.added <= end_day
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


def _neglect(network: _Network, config: HealthConfig) -> Neglect:
    today = network.today
    due = network.by_neglect(network.due <= today)
    horizon = today + config.horizon_days
    falling_due = int((network.touched & (network.due > today) & (network.due <= horizon)).sum())
    owner, day = network.touches()
    window = (day > today - config.recent_days) & (day <= today)
    recent = len(np.unique(np.stack([owner[window], day[window]]), axis=1)[0])
    pace = recent * config.horizon_days / config.recent_days
    reached = max(0, math.floor(pace) - len(due))
    return Neglect(
        longest_without_touch=network.neglected(due[: config.list_limit]),
        due_now=len(due),
        falling_due=falling_due,
        horizon_days=config.horizon_days,
        touches_last_90_days=recent,
        pace_per_horizon=round(pace, 2),
        would_fall_out=max(0, falling_due - reached),
    )


# -- giving --------------------------------------------------------------------------------------


def _giving(network: _Network, config: HealthConfig) -> Giving:
    today, since = network.today, network.today - config.recent_days
    size, contacts = network.size, network.contacts
    gives = np.bincount(network.give_owner, minlength=size)
    asks = np.bincount(network.ask_owner, minlength=size)
    rows = np.flatnonzero(asks > gives)
    takers = rows[np.lexsort((network.ids[rows], -asks[rows], gives[rows] - asks[rows]))]
    given_to = int((gives > 0).sum())
    return Giving(
        gives_last_90_days=int(((network.give_day > since) & (network.give_day <= today)).sum()),
        asks_last_90_days=int(((network.ask_day > since) & (network.ask_day <= today)).sum()),
        gives_all_time=len(network.give_day),
        asks_all_time=len(network.ask_day),
        takers=len(takers),
        taker_contacts=[
            TakerContact(
                id=contacts.ids[row],
                name=contacts.names[row],
                tier=contacts.tiers[row],
                gives=int(gives[row]),
                asks=int(asks[row]),
            )
            for row in takers[: config.list_limit]
        ],
        contacts_given_to=given_to,
        share_given_to=_share(given_to, size),
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


@lru_cache(maxsize=4096)
def seniority(title: str | None) -> str | None:
    """executive, director, manager or individual contributor, from the title's words."""
    if not title or not title.strip():
        return None
    for level, pattern in _SENIORITY_PATTERNS:
        if pattern.search(title):
            return level
    return "individual contributor"


def field_key(name: str) -> str:
    """How two spellings of a value are told to be the same: case and spacing ignored."""
    return " ".join(name.split()).casefold()


class _Groups:
    """Contacts grouped by a value (case and spacing ignored), the first spelling naming it."""

    def __init__(self, values: Sequence[str | None]) -> None:
        numbers: dict[str, int] = {}  # key -> group
        seen: dict[str | None, int] = {None: -1, "": -1}  # value -> group (-1: unknown)
        self.names: list[str] = []
        groups = []
        for value in values:
            group = seen.get(value)
            if group is None:
                assert value is not None
                key = field_key(value)
                group = numbers.setdefault(key, len(numbers)) if key else -1
                if group == len(self.names):
                    self.names.append(" ".join(value.split()))
                seen[value] = group
            groups.append(group)
        self.group = np.array(groups, dtype=np.int64)
        self.sizes = np.bincount(self.group[self.group >= 0], minlength=len(self.names))
        self.known = int(self.sizes.sum())
        self.unknown = len(values) - self.known
        self.ranked = sorted(range(len(self.names)), key=lambda g: (-self.sizes[g], self.names[g]))
        self.dominant: int | None = None  # set by ``_spread`` for the fields

    def share(self, group: int) -> float:
        return round(int(self.sizes[group]) / self.known, 4)

    def figures(self) -> dict[str, Any]:
        shares = self.sizes / self.known if self.known else self.sizes.astype(float)
        return {
            "known": self.known,
            "unknown": self.unknown,
            "distinct": len(self.names),
            "largest_share": round(float(shares.max()), 4) if self.known else None,
            "hhi": round(float((shares * shares).sum()), 4) if self.known else None,
        }

    def distribution(self, limit: int) -> Distribution:
        buckets = [
            Bucket(name=self.names[g], contacts=int(self.sizes[g]), share=self.share(g))
            for g in self.ranked[:limit]
        ]
        return Distribution(**self.figures(), buckets=buckets)


def _field_bucket(fields: _Groups, group: int, guesses: Sequence[FieldGuess]) -> FieldBucket:
    members = [guesses[int(row)] for row in np.flatnonzero(fields.group == group)]
    inferred = [g.confidence for g in members if g.source is FieldSource.INFERRED]
    return FieldBucket(
        name=fields.names[group],
        contacts=len(members),
        share=fields.share(group),
        from_user=len(members) - len(inferred),
        inferred=len(inferred),
        mean_confidence=round(statistics.fmean(inferred), 4) if inferred else None,
    )


def _spread(
    network: _Network, records: NetworkRecords, config: HealthConfig
) -> tuple[Spread, _Groups]:
    contacts = network.contacts
    fields = _Groups([guess.field for guess in contacts.fields])
    sources = Counter(guess.source for guess in contacts.fields)
    field_distribution = FieldDistribution(
        **fields.figures(),
        buckets=[
            _field_bucket(fields, g, contacts.fields) for g in fields.ranked[: config.list_limit]
        ],
        from_user=sources[FieldSource.USER],
        inferred=sources[FieldSource.INFERRED],
        inference_floor=records.inference_floor,
    )
    largest = fields.ranked[0] if fields.ranked else None
    warning = None
    if (
        largest is not None
        and fields.known >= config.dominant_min_contacts
        and fields.share(largest) >= config.dominant_share
    ):
        fields.dominant = largest
        name, count = fields.names[largest], int(fields.sizes[largest])
        warning = (
            f"{fields.share(largest):.0%} of your network ({count} of {fields.known} contacts "
            f"with a known field) is in {name}. A network of one kind of person fails you when "
            f"you need to move: reconnect first with your contacts outside {name}, and meet "
            "people in other fields."
        )
    spread = Spread(
        fields=field_distribution,
        companies=_Groups(contacts.companies).distribution(config.list_limit),
        seniority=_Groups([seniority(t) for t in contacts.titles]).distribution(config.list_limit),
        dominant_field=fields.names[fields.dominant] if fields.dominant is not None else None,
        warning=warning,
    )
    return spread, fields


# -- suggestions for the network itself ----------------------------------------------------------


def _suggestions(network: _Network, fields: _Groups, config: HealthConfig) -> NetworkSuggestions:
    reconnect = np.zeros(0, dtype=np.int64)
    if fields.dominant is not None:
        reconnect = network.by_neglect(
            (fields.group >= 0)
            & (fields.group != fields.dominant)
            & (network.due <= network.today + config.horizon_days)
        )
    last_gift = np.full(network.size, _NEVER, dtype=np.int64)
    np.maximum.at(last_gift, network.give_owner[network.gift], network.give_day[network.gift])
    rows = np.flatnonzero(
        (network.tier == TIERS.index(Tier.A)) & (last_gift <= network.today - config.gift_days)
    )
    without_gift = rows[np.lexsort((network.ids[rows], last_gift[rows]))]
    return NetworkSuggestions(
        reconnect_first=len(reconnect),
        reconnect_first_contacts=network.neglected(reconnect[: config.list_limit]),
        tier_a_without_gift=len(without_gift),
        tier_a_without_gift_contacts=[
            GiftGap(
                **network.ref(row),
                last_gift_on=_day(last_gift[row]) if last_gift[row] != _NEVER else None,
            )
            for row in without_gift[: config.list_limit]
        ],
    )
