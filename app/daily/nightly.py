"""The nightly batch: for each workspace, build the day's list, write the digest, deliver it.

Beside a running server. On the embedded default the server holds the Qdrant Edge shards (one
process may open a shard), so this job never opens them. It reads what it needs from the records
and the embedding cache, two SQLite files in WAL mode that both processes share safely, and ranks
on a temporary Qdrant Edge index of its own: the same points the server indexes (``record_texts``
+ ``embed_texts``, the code the server writes with), the same scorer and the same
``SuggestionEngine``. With a Qdrant server it ranks on the server.

Idempotent and resumable. Each workspace's list is written in one transaction with its
suggestions, so after a crash a list exists whole or not at all; a later run skips the lists that
exist (the same list, no duplicates) and builds the rest. Digest files are replaced atomically and
deliveries are recorded on the list, so a re-run delivers only what was not delivered.
"""

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.config import Settings
from app.daily import service
from app.daily.config import DailyConfig
from app.daily.delivery import DeliveryError, check_email_settings, post_webhook, send_email
from app.daily.digest import folder_name, render_json, write_digest
from app.daily.mail import MailContext, digest_message
from app.daily.schemas import DailyListPublic
from app.db import is_busy
from app.feeds import news
from app.feeds.polling import poll_now
from app.feeds.schemas import NewItem
from app.feeds.service import any_feeds
from app.indexing import embed_texts, record_texts
from app.models import Contact, DailyList, Workspace, utcnow
from app.network.schemas import NetworkHealth
from app.network.service import workspace_health
from app.runtime import Records, open_database, open_embedder, open_index
from app.suggestions.engine import SuggestionEngine
from app.workspaces.service import cadences_for
from embeddings.cache import CachedEmbedder
from embeddings.index import EdgeIndex, VectorIndex

log = logging.getLogger(__name__)
_EMBED_BATCH = 2_000
FEEDS_WAIT_S = 300.0


class NightlyError(RuntimeError):
    """The batch cannot run as asked (bad data folder, unknown workspace, bad settings)."""


class _Ranking:
    """What the lists are ranked with, opened when a first list is to be built (the list and
    the health's fields both need the embedder) and closed with the records."""

    def __init__(self, records: Records) -> None:
        self.records = records

    @cached_property
    def embedder(self) -> CachedEmbedder:
        return open_embedder(self.records.settings, self.records.closing)

    @cached_property
    def server_index(self) -> VectorIndex:
        """The Qdrant server's index (with a server only: the embedded one is the server's)."""
        return open_index(self.records.settings, self.embedder, self.records.closing)


@dataclass(frozen=True)
class NightlyOptions:
    day: date
    workspace: str | None = None  # None: every workspace
    out_dir: Path | None = None  # None: the settings' digest folder
    webhook_url: str | None = None
    email: bool = False
    dry_run: bool = False
    budget: int | None = None  # None: the settings' daily budget
    poll_feeds: bool = True  # poll the feeds first, so the day's list and digest see their news
    feeds_wait: float = FEEDS_WAIT_S  # how long to wait for a running server to poll them


@dataclass
class WorkspaceOutcome:
    workspace: str
    workspace_id: int | None  # None: the workspace was not read (its list could not be built)
    built: bool  # False: the list existed already (a re-run), or could not be built
    daily: DailyListPublic | None  # None: not built (``not_built`` says why); a re-run builds it
    files: tuple[Path, Path] | None = None
    delivered: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_built: str | None = None
    health: NetworkHealth | None = None  # the digest's "Network health" section
    new_items: list[NewItem] = field(default_factory=list)  # the digest's "New this week"
    mail: MailContext = field(default_factory=MailContext)  # addresses and one-click links


Progress = Callable[[str], None]


def check_data_dir(settings: Settings) -> None:
    """A clear error for a data folder that is missing, not a folder, or not readable."""
    folder = settings.data_dir
    if settings.database_url and not folder.exists():
        return  # the records are elsewhere; the folder (vectors, cache) is made on first use
    if not folder.exists():
        raise NightlyError(f"No data folder at {folder.resolve()} (set GIVEFIRST_DATA_DIR).")
    if not folder.is_dir():
        raise NightlyError(f"{folder.resolve()} is not a folder (GIVEFIRST_DATA_DIR).")
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        raise NightlyError(f"The data folder {folder.resolve()} is not readable and writable.")
    if not settings.database_url and not (folder / "givefirst.sqlite3").is_file():
        raise NightlyError(
            f"No database in {folder.resolve()}: start the service once (givefirst serve)."
        )


def run_nightly(
    settings: Settings, options: NightlyOptions, progress: Progress | None = None
) -> list[WorkspaceOutcome]:
    """Run the batch; one outcome per workspace. Raises ``NightlyError`` before doing anything
    when it cannot run; delivery problems are reported in the outcomes."""
    report = progress or (lambda message: log.info("%s", message))
    check_data_dir(settings)
    if options.email:
        try:
            check_email_settings(settings)
        except DeliveryError as error:
            raise NightlyError(str(error)) from error
    if options.webhook_url and not settings.webhook_secret:
        raise NightlyError("--webhook needs GIVEFIRST_WEBHOOK_SECRET to sign the digest.")
    config = settings.daily_config()
    if options.budget is not None:
        config = DailyConfig(budget=options.budget, lookahead_days=config.lookahead_days)
    out_dir = options.out_dir or settings.resolved_digest_dir()

    records = open_database(settings)
    try:
        with records.session_factory() as session:
            names = _workspace_names(session, options.workspace)
        if options.poll_feeds and not options.dry_run:
            _poll_feeds(records, options, report)
        outcomes = []
        ranking = _Ranking(records)
        for number, name in enumerate(names, start=1):
            report(f"[{number}/{len(names)}] {name}: building the list for {options.day}")
            outcome = _build_with_retries(records, name, ranking, settings, config, options)
            if outcome.daily is not None and not options.dry_run:
                assert outcome.workspace_id is not None
                outcome.files = write_digest(
                    outcome.daily, out_dir, outcome.workspace_id, outcome.health, outcome.new_items
                )
                _deliver(records, settings, options, outcome)
            outcomes.append(outcome)
            report(_summary(outcome))
        return outcomes
    finally:
        records.close()


def _build_with_retries(
    records: Records,
    name: str,
    ranking: _Ranking,
    settings: Settings,
    config: DailyConfig,
    options: NightlyOptions,
) -> WorkspaceOutcome:
    """The workspace's list, in one transaction. A transaction that meets another write (the
    database stays locked past the busy timeout, or the server built the list meanwhile) is
    tried again after a wait that doubles, ``nightly_attempts`` times in all; then the workspace
    is reported as not built and the batch goes on with the next."""
    attempts, problem = settings.nightly_attempts, ""
    for attempt in range(1, attempts + 1):
        try:
            with _transaction(records, rollback=options.dry_run) as session:
                workspace = _workspace(session, name)
                # Another run building this list (a second nightly, a replica's reader) is
                # waited for: its list is then read here, and not built twice.
                service.lock_daily_lists(session, workspace.id, wait=True)
                existing = service.get_daily_list(
                    session=session, workspace=workspace, day=options.day
                )
                return _build(ranking, session, workspace, existing, config, options)
        except (IntegrityError, OperationalError) as error:
            if isinstance(error, OperationalError) and not is_busy(error):
                raise
            problem = str(error.orig)
        if attempt < attempts:
            wait = settings.nightly_retry_seconds * 2 ** (attempt - 1)
            log.warning(
                "%s: the list met another write (%s); attempt %d of %d in %g s",
                name,
                problem,
                attempt + 1,
                attempts,
                wait,
            )
            time.sleep(wait)
    reason = f"the database stayed busy with another write ({problem}) through {attempts} attempts"
    log.error("%s: no list built: %s", name, reason)
    return WorkspaceOutcome(
        workspace=name, workspace_id=None, built=False, daily=None, not_built=reason
    )


def _poll_feeds(records: Records, options: NightlyOptions, report: Progress) -> None:
    """Poll the feeds (of the workspace asked for, or all) before the lists are built. A poll
    that fails is reported and the batch goes on: the day's list matters more than the news."""
    with records.session_factory() as session:
        workspace_id = _workspace(session, options.workspace).id if options.workspace else None
        if not any_feeds(session=session, workspace_id=workspace_id):
            return
    try:
        run = poll_now(records.settings, workspace_id, wait=options.feeds_wait)
    except Exception as error:  # a broken feed poll must not cost the day's lists
        log.exception("feeds: the poll failed")
        report(f"feeds: not polled ({error})")
        return
    if run.asked is None:
        saved = sum(result.saved for result in run.results)
        failed = sum(result.error is not None for result in run.results)
        report(f"feeds: {len(run.results)} polled, {saved} new article(s), {failed} failed")
    else:
        late = f"; {run.late} not within {options.feeds_wait:g} s" if run.late else ""
        polled = f"{len(run.polled_by_server)} of {len(run.asked)}"
        report(f"feeds: the running server polled {polled}{late}")


def _workspace_names(session: Session, wanted: str | None) -> list[str]:
    """The workspaces to plan: ``wanted``, or all; a workspace with no contact has nothing to
    plan, and gets no list and no digest (a first start's key makes one)."""
    names = list(session.scalars(select(Workspace.name).order_by(Workspace.id)))
    if wanted is not None and wanted not in names:
        known = ", ".join(names) or "none yet"
        raise NightlyError(f"No workspace named {wanted!r} (workspaces: {known}).")
    with_contacts = set(
        session.scalars(
            select(Workspace.name).where(
                exists().where(Contact.workspace_id == Workspace.id).correlate(Workspace)
            )
        )
    )
    chosen = [wanted] if wanted is not None else names
    for name in chosen:
        if name not in with_contacts:
            log.info("%s: no contacts yet, so no list and no digest", name)
    return [name for name in chosen if name in with_contacts]


def _workspace(session: Session, name: str) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    assert workspace is not None
    return workspace


@contextmanager
def _transaction(records: Records, *, rollback: bool) -> Iterator[Session]:
    """One transaction: committed at the end, or rolled back (dry run, or an error)."""
    with records.session_factory() as session:
        try:
            yield session
            if rollback:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def workspace_index(
    ranking: _Ranking, session: Session, workspace_id: int
) -> Iterator[VectorIndex]:
    """The index the workspace's list is ranked on: the Qdrant server itself where there is
    one; otherwise a temporary Qdrant Edge index of the workspace's articles and expertise, built
    from the records and the embedding cache (the model runs only for texts missing from the
    cache) with the code and the scorer the server uses."""
    if ranking.records.settings.qdrant_url:
        yield ranking.server_index
        return
    embedder = ranking.embedder
    with tempfile.TemporaryDirectory(prefix="givefirst-nightly-") as folder:
        index = EdgeIndex(Path(folder), model_id=embedder.model_id, dimension=embedder.dimension)
        index.open()
        try:
            batch = []
            for text in record_texts(session, workspace_id):
                if text.kind == "pain_point":
                    continue  # pain points are the queries; the engine embeds them (cache hits)
                batch.append(text)
                if len(batch) >= _EMBED_BATCH:
                    index.upsert(embed_texts(embedder, batch))
                    batch = []
            index.upsert(embed_texts(embedder, batch))
            yield index
        finally:
            index.close()


def _build(
    ranking: _Ranking,
    session: Session,
    workspace: Workspace,
    existing: DailyList | None,
    config: DailyConfig,
    options: NightlyOptions,
) -> WorkspaceOutcome:
    settings, embedder = ranking.records.settings, ranking.embedder
    daily_list, built, new_items = existing, False, []
    fresh = news.any_new(session=session, workspace=workspace, today=options.day)
    if existing is None or fresh:
        with workspace_index(ranking, session, workspace.id) as index:
            engine = SuggestionEngine(embedder, index, settings.engine_config())
            if existing is None:
                daily_list, built = service.build_daily_list(
                    session=session,
                    engine=engine,
                    workspace=workspace,
                    cadences=cadences_for(workspace, settings),
                    day=options.day,
                    config=config,
                )
            if fresh:
                new_items = news.new_this_week(
                    session=session, engine=engine, workspace=workspace, today=options.day
                )
    assert daily_list is not None
    daily = service.to_public(session, daily_list, workspace)
    health = workspace_health(
        session=session,
        workspace=workspace,
        embedder=embedder,
        settings=settings,
        today=options.day,
    )
    mail = service.mail_context(
        session=session,
        workspace=workspace,
        daily=daily,
        public_url=settings.public_url,
        links_expire_at=datetime.now(UTC) + timedelta(settings.action_link_days),
        snooze_days=settings.action_snooze_days,
    )
    return WorkspaceOutcome(
        workspace=workspace.name,
        workspace_id=workspace.id,
        built=built,
        daily=daily,
        health=health,
        mail=replace(mail, new_items=new_items),
        new_items=new_items,
    )


def _deliver(
    records: Records, settings: Settings, options: NightlyOptions, outcome: WorkspaceOutcome
) -> None:
    """Send what this list has not been sent yet; record each delivery as it succeeds."""
    daily, workspace_id = outcome.daily, outcome.workspace_id
    assert daily is not None and workspace_id is not None
    json_text = render_json(daily)
    folder = folder_name(workspace_id, daily.workspace)
    channels: list[tuple[str, Callable[[], None]]] = []
    if options.webhook_url:
        url, secret = options.webhook_url, settings.webhook_secret or ""

        def webhook() -> None:
            post_webhook(
                url,
                json_text.encode(),
                secret=secret,
                delivery_id=f"{folder}/{daily.date.isoformat()}",
            )

        channels.append(("webhook", webhook))
    if options.email:

        def email() -> None:
            message = digest_message(
                daily,
                outcome.health,
                outcome.mail,
                subject=f"Give first today: {len(daily.items)} contact(s) ({daily.workspace})",
                json_text=json_text,
                filename=f"givefirst-{folder}-{daily.date.isoformat()}.json",
            )
            send_email(settings, message)

        channels.append(("email", email))
    for channel, send in channels:
        try:
            with _transaction(records, rollback=False) as session:
                workspace = _workspace(session, daily.workspace)
                stored = service.get_daily_list(
                    session=session, workspace=workspace, day=daily.date
                )
                assert stored is not None
                column = f"{channel}_delivered_at"
                if getattr(stored, column) is not None:
                    continue  # delivered by an earlier run
                try:
                    send()
                except DeliveryError as error:
                    outcome.errors.append(f"{daily.workspace}: {error}")
                    continue
                setattr(stored, column, utcnow())
        except OperationalError as error:
            if not is_busy(error):
                raise
            outcome.errors.append(
                f"{daily.workspace}: {channel}: delivered, but not recorded (the database stayed "
                "busy with another write): the next run delivers it again"
            )
            continue
        outcome.delivered.append(channel)


def _summary(outcome: WorkspaceOutcome) -> str:
    daily = outcome.daily
    if daily is None:
        return f"{outcome.workspace}: NO LIST BUILT: {outcome.not_built}"
    state = "built" if outcome.built else "already built, unchanged"
    text = (
        f"{outcome.workspace}: {len(daily.items)} contact(s) listed for {daily.date}"
        f" ({daily.due_count} due; {state})"
    )
    if outcome.delivered:
        text += f"; delivered by {', '.join(outcome.delivered)}"
    for error in outcome.errors:
        text += f"; DELIVERY FAILED: {error}"
    return text
