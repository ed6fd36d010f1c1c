"""Response bodies of the network's health (also the digest's "Network health" section)."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from app.network.families import FieldSource


class ContactHealthRef(BaseModel):
    """A contact as the health figures show it."""

    id: int = Field(description="The contact's id.")
    name: str = Field(description="The contact's name.")
    tier: str = Field(description="A, B or C.")
    company: str | None = Field(description="The contact's company.")
    field: str | None = Field(description="The user's field, or the inferred job family.")
    field_source: FieldSource = Field(
        description="user (the contact's own field), inferred (nearest job family) or unknown."
    )
    last_touch_on: date | None = Field(description="The last interaction; null if never.")
    due_on: date = Field(description="Last touch plus the tier's cadence (the day added if never).")
    days_without_touch: int = Field(
        description="Days since the last touch (since the contact was added if never)."
    )


class CadenceCounts(BaseModel):
    contacts: int = Field(description="Contacts counted.")
    in_cadence: int = Field(description="Touched, and the next touch is not yet due.")
    due: int = Field(description="Touched before, and due today or overdue (includes `overdue`).")
    overdue: int = Field(description="Touched before, and past the due day.")
    overdue_days_median: float | None = Field(
        description="Median days past due over the overdue contacts; null if none."
    )
    overdue_days_worst: int | None = Field(description="Most days past due; null if none.")
    never_contacted: int = Field(description="No touch on record (due from the day added).")
    share_in_cadence: float | None = Field(
        description="in_cadence / contacts; null for no contacts."
    )


class TierCadence(CadenceCounts):
    tier: str = Field(description="A, B or C.")
    cadence_days: int = Field(description="Days between touches for the tier.")


class CadencePoint(BaseModel):
    week_ending: date = Field(description="The day the point is measured on.")
    contacts: int = Field(description="Contacts added on or before the day.")
    in_cadence: int = Field(
        description="Of those, contacts with a touch within their tier's cadence of the day."
    )
    share_in_cadence: float | None = Field(description="in_cadence / contacts; null if none.")
    listed_due: int | None = Field(
        description="Contacts due on the last daily list stored that week; null if none was built."
    )


class Cadence(BaseModel):
    overall: CadenceCounts = Field(description="All tiers together.")
    tiers: list[TierCadence] = Field(description="Tiers A, B and C, in that order.")
    history: list[CadencePoint] = Field(
        description="The share in cadence at the end of each of the last weeks, oldest first; "
        "the last point is today. Rebuilt from the ledger's give and ask dates, each contact's "
        "last touch and its creation date (see docs/network-health.md)."
    )


class NeglectedContact(ContactHealthRef):
    cadences_without_touch: float = Field(
        description="days_without_touch / the tier's cadence: the tier-weighted neglect."
    )


class Neglect(BaseModel):
    longest_without_touch: list[NeglectedContact] = Field(
        description="Due or overdue contacts (never contacted included), most cadences without "
        "a touch first: a tier-A contact 180 days untouched (2.0) before a tier-C one 400 days "
        "untouched (1.1)."
    )
    due_now: int = Field(description="Contacts due or overdue today, never contacted included.")
    falling_due: int = Field(
        description="Contacts in cadence today who fall due within the horizon."
    )
    horizon_days: int = Field(description="How far ahead `falling_due` looks (30 days).")
    touches_last_90_days: int = Field(
        description="Distinct (contact, day) touches in the last 90 days: gives, asks and last "
        "touches."
    )
    pace_per_horizon: float = Field(
        description="touches_last_90_days scaled to the horizon: the current pace."
    )
    would_fall_out: int = Field(
        description="Of `falling_due`, how many the current pace does not reach: the daily list "
        "serves the `due_now` backlog first, so falling_due - max(0, floor(pace) - due_now), "
        "at least 0."
    )


class TakerContact(BaseModel):
    id: int = Field(description="The contact's id.")
    name: str = Field(description="The contact's name.")
    tier: str = Field(description="A, B or C.")
    gives: int = Field(description="Gives logged to the contact, all time.")
    asks: int = Field(description="Asks logged to the contact, all time.")


class Giving(BaseModel):
    gives_last_90_days: int = Field(description="Gives dated in the last 90 days (today too).")
    asks_last_90_days: int = Field(description="Asks dated in the last 90 days (today too).")
    gives_all_time: int = Field(description="Every give logged.")
    asks_all_time: int = Field(description="Every ask logged.")
    takers: int = Field(description="Contacts you have asked more often than you have given to.")
    taker_contacts: list[TakerContact] = Field(
        description="The takers, largest asks-minus-gives first (at most the list limit)."
    )
    contacts_given_to: int = Field(description="Contacts who have received at least one give.")
    share_given_to: float | None = Field(description="contacts_given_to / contacts.")


class Bucket(BaseModel):
    name: str = Field(description="The value, as first spelt (case and spacing are ignored).")
    contacts: int = Field(description="Contacts with this value.")
    share: float = Field(description="contacts / the contacts whose value is known.")


class FieldBucket(Bucket):
    from_user: int = Field(description="Contacts whose own field this is.")
    inferred: int = Field(description="Contacts inferred into this job family.")
    mean_confidence: float | None = Field(
        description="Mean cosine of the inferred ones; null if none."
    )


class Distribution(BaseModel):
    known: int = Field(description="Contacts with a value.")
    unknown: int = Field(description="Contacts without one (left out of the shares).")
    distinct: int = Field(description="How many different values.")
    largest_share: float | None = Field(description="The share of the largest value.")
    hhi: float | None = Field(
        description="Herfindahl-Hirschman index: the sum of the squared shares, from 1/distinct "
        "(evenly spread) to 1 (all one value); multiply by 10,000 for the antitrust scale."
    )
    buckets: list[Bucket] = Field(description="The largest values first (at most the list limit).")


class FieldDistribution(Distribution):
    buckets: list[FieldBucket] = Field(  # type: ignore[assignment]
        description="The largest fields first (at most the list limit)."
    )
    from_user: int = Field(description="Contacts whose field the user set.")
    inferred: int = Field(description="Contacts whose field was inferred from their profile.")
    inference_floor: float = Field(description="Below this cosine the field stays unknown.")


class Spread(BaseModel):
    fields: FieldDistribution = Field(
        description="The user's field where set, else the inferred job family."
    )
    companies: Distribution = Field(description="The contacts' companies.")
    seniority: Distribution = Field(
        description="executive, director, manager or individual contributor, read from the title."
    )
    dominant_field: str | None = Field(
        description="The largest field when its share reaches the warning threshold."
    )
    warning: str | None = Field(description="A plain warning when one field dominates.")


class GiftGap(ContactHealthRef):
    last_gift_on: date | None = Field(description="The last give that was not a mere check-in.")


class NetworkSuggestions(BaseModel):
    reconnect_first: int = Field(
        description="Contacts outside the dominant field going cold (due within the horizon)."
    )
    reconnect_first_contacts: list[NeglectedContact] = Field(
        description="Them, most neglected first; empty when no field dominates."
    )
    tier_a_without_gift: int = Field(
        description="Tier-A contacts with no gift (a give other than a check-in) in a year."
    )
    tier_a_without_gift_contacts: list[GiftGap] = Field(
        description="Them, longest without a gift first (never first)."
    )


class NetworkHealth(BaseModel):
    """Is the network alive, spread wide enough, and am I a giver?"""

    # Annotated: a default named like the type would hide it from the annotations below.
    date: Annotated[date, Field(description="The day measured (the server's local day).")]
    contacts: int = Field(description="Contacts in the workspace.")
    cadence: Cadence = Field(description="Is the network alive: who is in cadence, by tier.")
    neglect: Neglect = Field(description="Who has gone longest without a touch.")
    giving: Giving = Field(description="Am I a giver: gives against asks.")
    spread: Spread = Field(description="Is the network spread wide enough.")
    suggestions: NetworkSuggestions = Field(description="What to do for the network itself.")
