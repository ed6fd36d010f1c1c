"""The knobs of the day's list (set from ``app.config.Settings``)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DailyConfig:
    budget: int = 5  # most contacts on a day's list
    lookahead_days: int = 7  # on a light day, pull forward contacts due this soon
    rotation_days: int = 7  # listed this recently and not acted on: after the others
    coming_up_days: int = 7  # how many of the next days the plan shows
