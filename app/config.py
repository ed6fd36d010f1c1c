"""Settings, read from the environment (``GIVEFIRST_*``) with the embedded defaults."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.daily.config import DailyConfig
from app.db import SQLITE_BUSY_TIMEOUT_SECONDS
from app.network.config import HealthConfig
from app.network.families import DEFAULT_FLOOR
from app.ratelimit import parse_rate_limit
from app.suggestions.config import EngineConfig
from embeddings.factory import Backend


def split_listen(text: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:2525`` for IPv6; port 0: any free port) as its host and port;
    ValueError if not."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"not host:port, e.g. 127.0.0.1:2525: {text!r}")
    return host, int(port)


class Settings(BaseSettings):
    """Every knob of the service in one place.

    The defaults are the embedded set-up: SQLite and Qdrant Edge in ``data_dir`` and the
    embedding model shipped inside a pip package.
    """

    model_config = SettingsConfigDict(env_prefix="GIVEFIRST_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("givefirst"),
        description="SQLite file, vectors, embedding cache and digests; default: the user's "
        "data folder (~/.local/share/givefirst on Linux), wherever a command is run from.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in the data folder."
    )
    database_busy_timeout_seconds: float = Field(
        default=SQLITE_BUSY_TIMEOUT_SECONDS,
        gt=0,
        le=600,
        description="SQLite: how long a write waits for another process's write to end before "
        "it gives up (503 from the API; the nightly batch retries).",
    )
    qdrant_url: str | None = Field(
        default=None,
        description="Qdrant server URL; default: Qdrant Edge, embedded, in the data folder.",
    )
    qdrant_api_key: str | None = None
    model: str | None = Field(
        default=None,
        description="A local sentence-transformers folder; default: the packaged all-MiniLM-L6-v2.",
    )
    embedding_backend: Backend = Field(
        default="auto",
        description="onnx (the model exported to ONNX once, run by onnxruntime), torch "
        "(sentence-transformers), or auto: onnx where the model allows it, else torch.",
    )
    onnx_dir: Path | None = Field(
        default=None,
        description="Where the exported ONNX graphs are kept; default: ~/.cache/givefirst/onnx.",
    )

    cadence_a_days: int = Field(default=90, ge=1, le=3650)
    cadence_b_days: int = Field(default=182, ge=1, le=3650)
    cadence_c_days: int = Field(default=365, ge=1, le=3650)

    relevance_floor: float = Field(
        default=EngineConfig.relevance_floor,
        ge=0,
        le=1,
        description="Below this relevance an article or introduction is never suggested.",
    )
    keyword_weight: float = Field(default=EngineConfig.keyword_weight, ge=0, le=1)
    pain_point_half_life_days: float = Field(default=EngineConfig.half_life_days, gt=0)
    stale_pain_point_days: int = Field(default=EngineConfig.stale_after_days, ge=1)

    bad_timing_days: int = Field(
        default=30,
        ge=1,
        le=730,
        description="A suggestion dismissed as bad_timing may come back after this many days.",
    )

    daily_budget: int = Field(
        default=DailyConfig.budget, ge=1, le=100, description="Most contacts on a day's list."
    )
    daily_lookahead_days: int = Field(
        default=DailyConfig.lookahead_days,
        ge=0,
        le=90,
        description="On a light day, contacts due within this many days may be pulled forward.",
    )
    nightly_attempts: int = Field(
        default=4,
        ge=1,
        le=20,
        description="The nightly batch: how many times it tries a workspace's list while the "
        "database stays busy with another write.",
    )
    nightly_retry_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="The nightly batch: the wait before trying a list again; it doubles each time.",
    )
    network_dominant_share: float = Field(
        default=HealthConfig.dominant_share,
        gt=0,
        le=1,
        description="Network health warns when one field holds this share of the contacts.",
    )
    field_inference_floor: float = Field(
        default=DEFAULT_FLOOR,
        ge=-1,
        le=1,
        description="Below this cosine a contact's field is not inferred (it stays unknown).",
    )
    digest_dir: Path | None = Field(
        default=None, description="Where the nightly digests go; default: <data_dir>/digests."
    )
    webhook_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key signing the digest POSTed to --webhook."
    )
    public_url: str | None = Field(
        default=None,
        description="The address the service is reached at from a mail reader, e.g. "
        "https://givefirst.example.org: the digest e-mail's one-click links start with it; "
        "unset, the e-mail has no links.",
    )
    action_link_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="A digest's one-click links expire after this many days.",
    )
    action_snooze_days: int = Field(
        default=14,
        ge=1,
        le=365,
        description="The digest's one-click snooze keeps the contact off the lists this many days.",
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (port 587), ssl (port 465) or none (local relay)."
    )
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_to: list[str] = Field(
        default_factory=list, description='Recipients, as a JSON list: ["me@example.com"].'
    )

    smtp_listen: str | None = Field(
        default=None,
        description="Inbound e-mail: host:port the SMTP listener binds, e.g. 127.0.0.1:2525 "
        "(mail BCC'd to a workspace's touch address logs touches); default: no listener.",
    )
    smtp_domain: str | None = Field(
        default=None,
        description="Inbound e-mail: the domain shown in touch addresses (touch+<token>@domain); "
        "default: the listener's host.",
    )
    smtp_max_bytes: int = Field(
        default=25 * 2**20, ge=1, description="Inbound e-mail: the largest message accepted."
    )
    smtp_rate_limit: str = Field(
        default="120/hour",
        description="Inbound e-mail: most messages one touch address may receive, e.g. "
        "'120/hour' (refused with 451, try later, past it).",
    )
    import_max_bytes: int = Field(
        default=10 * 2**20, ge=1, description="Largest contacts or articles file accepted."
    )
    max_body_bytes: int = Field(
        default=4 * 2**20,
        ge=1,
        description="Largest request body other than an upload (an article's 200,000 characters "
        "of text, JSON-escaped, fit).",
    )
    restore_max_bytes: int = Field(
        default=256 * 2**20, ge=1, description="Largest workspace export accepted for a restore."
    )
    fetch_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Saving by URL: the whole fetch must finish in it."
    )
    fetch_max_bytes: int = Field(
        default=5 * 2**20, ge=1, description="Saving by URL: the largest page fetched."
    )
    extract_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="Saving by URL: reading the fetched page's title and main text must finish "
        "in it.",
    )
    fetch_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts fetched even though they resolve to a loopback or private address "
        "(comma-separated).",
    )

    feed_poll_minutes: float = Field(
        default=60,
        ge=0,
        le=10_080,
        description="Feeds: how often each feed is polled; 0: the server never polls by itself "
        "(`givefirst feeds poll` still does).",
    )
    feed_check_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="Feeds: how often the server looks for feeds due (or asked for by "
        "`givefirst feeds poll` while it runs).",
    )
    feed_max_age_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Feeds: items published longer ago than this are not saved.",
    )
    feed_pages_per_poll: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="Feeds: most item pages fetched per feed and poll to read the full text of "
        "items that carry only a summary (the others keep their summary).",
    )
    feed_fetches_at_once: int = Field(
        default=4, ge=1, le=32, description="Feeds: how many feeds are fetched at the same time."
    )

    session_secret: SecretStr | None = Field(
        default=None,
        description="The key signing the web page's session cookies; default: a random key "
        "made once and kept in <data_dir>/session_secret. Changing it signs everyone out.",
    )

    rate_limit: str | None = Field(
        default=None,
        description="Most requests one API key may make, e.g. '120/minute' or '10/second' "
        "(answered 429 with Retry-After past it); default: no limit.",
    )
    rate_limit_storage: str | None = Field(
        default=None,
        description="Where the rate limit counts: a `limits` storage URI that every replica "
        "shares, e.g. 'redis://host:6379' (its client installed beside Givefirst); default: the "
        "database on PostgreSQL, this process's memory on SQLite.",
    )

    @field_validator("smtp_listen")
    @classmethod
    def _check_smtp_listen(cls, value: str | None) -> str | None:
        if value is None or not value.strip() or value.strip().lower() == "off":
            return None
        split_listen(value)  # ValueError: not host:port
        return value.strip()

    @field_validator("smtp_rate_limit")
    @classmethod
    def _check_smtp_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)
        return value.strip()

    @field_validator("rate_limit")
    @classmethod
    def _check_rate_limit(cls, value: str | None) -> str | None:
        if value is None or not value.strip() or value.strip().lower() == "off":
            return None
        parse_rate_limit(value)  # ValueError: not a rate like "120/minute"
        return value.strip()

    @field_validator("fetch_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return [str(host).strip().lower() for host in value if str(host).strip()]
        return value

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            relevance_floor=self.relevance_floor,
            keyword_weight=self.keyword_weight,
            half_life_days=self.pain_point_half_life_days,
            stale_after_days=self.stale_pain_point_days,
        )

    def daily_config(self) -> DailyConfig:
        return DailyConfig(budget=self.daily_budget, lookahead_days=self.daily_lookahead_days)

    def health_config(self) -> HealthConfig:
        return HealthConfig(dominant_share=self.network_dominant_share)

    def resolved_digest_dir(self) -> Path:
        return self.digest_dir or self.data_dir / "digests"

    def records_location(self) -> str:
        """Where the records (and so the keys) live, as a person can find it."""
        if self.database_url:
            return "the database at GIVEFIRST_DATABASE_URL"
        return f"the data folder {self.data_dir.resolve()}"

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL in use: the setting, or SQLite inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'givefirst.sqlite3').resolve()}"

    def vectors_path(self) -> Path:
        """Where the embedded Qdrant Edge shards live (unused with a Qdrant server)."""
        return self.data_dir / "vectors"

    def legacy_qdrant_path(self) -> Path:
        """Qdrant local mode's folder, from before the embedded engine was Qdrant Edge."""
        return self.data_dir / "qdrant"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use (never at import time)."""
    return Settings()
