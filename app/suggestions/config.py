"""The knobs of the suggestion engine (set from ``app.config.Settings``).

Kept apart from the engine so that reading the settings imports no search code.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    relevance_floor: float = 0.2087  # scripts/calibrate_floor.py on the HR set; docs/benchmarks.md
    keyword_weight: float = 0.5  # tuned on CounselChat train+val and the HR set's tune half
    half_life_days: float = 365.0
    stale_after_days: int = 365
    duplicate_cosine: float = 0.9
    sent_pull: float = 0.05  # scripts/bench_dismissals.py on the HR set's tune half
    dismissed_push: float = 0.025
    articles_per_query: int = 20  # candidate articles per pain point (80 passages searched)
    expertise_per_query: int = 40
    contacts_per_batch: int = 256  # bounds the hits held in memory by ``suggest_many``
