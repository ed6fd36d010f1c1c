"""The knobs of the network's health (set from ``app.config.Settings``)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class HealthConfig:
    list_limit: int = 10  # most contacts (or buckets) in each list
    history_weeks: int = 12  # weekly points of the share in cadence
    horizon_days: int = 30  # "falling due soon", "going cold"
    recent_days: int = 90  # "the last 90 days" of the giving figures and the pace
    gift_days: int = 365  # tier-A contacts without a gift for this long
    dominant_share: float = 0.5  # one field this large warns...
    dominant_min_contacts: int = 5  # ...once this many contacts have a known field
