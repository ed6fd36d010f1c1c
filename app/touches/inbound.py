"""Inbound e-mail: a workspace's secret touch address, and the SMTP listener that receives it.

Each workspace may have one address, ``touch+<token>@<domain>``; only the token's SHA-256 is
stored (the token is 128 random bits, like an API key: a slow hash adds nothing), so the address
is shown once when it is made, and making a new one retires the old. The user BCCs the address
on mail they send (or has it redirected, headers kept), and every message logs a touch for the
contacts its From, To and Cc name, on the day of its Date header, read exactly as an imported
.eml is (``import_touch_file``: the same matching and the same Message-ID dedupe, so the same
message in a later mbox import logs nothing twice). A forward the user wrote logs the original
it carries as well, on the original's day (``app.touches.forwards``): for that only, the body is
read in memory; nothing of a message is stored but its subject, never a body or an attachment.

The listener (aiosmtpd) runs in the application's event loop, started and stopped with it
(``start_listener``, from the lifespan); database work runs in a worker thread, and writes take
the application's write turn like the routes do. A recipient that is not a live touch address is
refused at RCPT (550), a message over ``smtp_max_bytes`` at MAIL or DATA (552), and an address
past ``smtp_rate_limit`` messages gets a temporary refusal (451), so the sender retries later.
"""

import asyncio
import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

import anyio
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, split_listen
from app.db import session_scope
from app.imports.parsers.common import FileRejected, Parsed, Problem, Row
from app.models import TouchSource, Workspace, utcnow
from app.ratelimit import KeyRateLimiter
from app.touches.forwards import read_forward
from app.touches.readers import Encounter, read_eml
from app.touches.service import log_encounters

log = logging.getLogger(__name__)

LOCAL_PART_PREFIX = "touch+"
_TOKEN_BYTES = 16
_HEADER_END = re.compile(rb"\r?\n\r?\n")


# --- the address ----------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.lower().encode()).hexdigest()


def address_domain(settings: Settings) -> str:
    """The domain part of touch addresses: the setting, else the listener's host."""
    if settings.smtp_domain:
        return settings.smtp_domain
    if settings.smtp_listen:
        host, _ = split_listen(settings.smtp_listen)
        return f"[{host}]" if re.fullmatch(r"[0-9.]+|.*:.*", host) else host
    return "localhost"


def touch_address(token: str, settings: Settings) -> str:
    return f"{LOCAL_PART_PREFIX}{token}@{address_domain(settings)}"


def new_touch_token(*, session: Session, workspace: Workspace) -> str:
    """A new token for ``workspace`` (the old one, if any, stops working); only its hash is
    kept: the caller shows the address once. Lower-case hex: mail systems may fold the case of
    a local part."""
    token = secrets.token_hex(_TOKEN_BYTES)
    workspace.touch_token_hash = hash_token(token)
    workspace.touch_token_prefix = token[:8]
    workspace.touch_token_created_at = utcnow()
    session.flush()
    return token


def revoke_touch_token(*, session: Session, workspace: Workspace) -> bool:
    """Retire the workspace's address; whether it had one."""
    had = workspace.touch_token_hash is not None
    workspace.touch_token_hash = None
    workspace.touch_token_prefix = None
    workspace.touch_token_created_at = None
    session.flush()
    return had


def token_of(address: str) -> str | None:
    """The token in ``touch+<token>@…``, or None if ``address`` is not a touch address."""
    local, at, _ = address.strip().strip("<>").rpartition("@")
    if not at or not local.lower().startswith(LOCAL_PART_PREFIX):
        return None
    token = local[len(LOCAL_PART_PREFIX) :].lower()
    return token if re.fullmatch(r"[0-9a-f]{32}", token) else None


def workspace_id_for_token(session: Session, token: str) -> int | None:
    return session.scalar(
        select(Workspace.id).where(Workspace.touch_token_hash == hash_token(token))
    )


# --- a message ------------------------------------------------------------------------------


def headers_only(raw: bytes) -> bytes:
    """The message's header block: the body and its attachments are never read."""
    return _HEADER_END.split(raw, maxsplit=1)[0] + b"\r\n"


def is_touch_address(address: str) -> bool:
    return token_of(address) is not None


def _without(encounter: Encounter, left_out: Callable[[str], bool]) -> Encounter:
    """``encounter`` without the people whose address ``left_out`` names."""
    people = tuple(p for p in encounter.people if not (p.email and left_out(p.email)))
    return replace(encounter, people=people)


def read_message(raw: bytes, today: date, mail_from: str | None) -> Parsed[Encounter]:
    """The encounters of one message received: the message itself, from its headers, and, if it
    is a forward the user wrote, the original(s) it carries (``forwards``), dated by their own
    Date. Touch addresses are nobody's; in a forward, neither is the forwarder's address (the
    user's own). A forward whose original cannot be read gives the message alone."""
    parsed = read_eml(headers_only(raw), today)
    forward = read_forward(raw, today, mail_from, is_touch_address)
    if forward is None:
        parsed.rows = [replace(r, value=_without(r.value, is_touch_address)) for r in parsed.rows]
        return parsed

    def left_out(address: str) -> bool:
        return address in forward.forwarder or is_touch_address(address)

    parsed.rows = [replace(r, value=_without(r.value, left_out)) for r in parsed.rows]
    for number, original in enumerate(forward.originals, start=2):
        parsed.rows.append(Row(record=number, line=None, value=_without(original, left_out)))
    for problem in forward.problems:
        parsed.warnings.append(Problem(1, None, problem))
    return parsed


def log_message(
    factory: sessionmaker[Session],
    token: str,
    raw: bytes,
    today: date,
    mail_from: str | None = None,
) -> tuple[int, int] | None:
    """Log the touches of one message received for ``token``: (logged, unknown people), or None
    if the token is no longer live (retired since RCPT)."""
    parsed = read_message(raw, today, mail_from)
    with session_scope(factory, write=True) as session:
        workspace_id = workspace_id_for_token(session, token)
        if workspace_id is None:
            return None
        workspace = session.get_one(Workspace, workspace_id)
        report = log_encounters(
            session=session, workspace=workspace, parsed=parsed, source=TouchSource.smtp
        )
        for problem in (*report.skipped_rows, *report.warnings):
            log.info("Inbound message for workspace %s: %s", workspace_id, problem.reason)
        return report.logged, report.unknown_people_total


# --- the listener ---------------------------------------------------------------------------


class TouchMailHandler:
    """aiosmtpd's handler: recipients checked at RCPT, messages logged at DATA."""

    def __init__(
        self, factory: sessionmaker[Session], write_turn: anyio.Semaphore, rate_limit: str
    ) -> None:
        self.factory = factory
        self.write_turn = write_turn
        self.limiter = KeyRateLimiter(rate_limit)

    def _is_live(self, token: str) -> bool:
        with session_scope(self.factory) as session:
            return workspace_id_for_token(session, token) is not None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        token = token_of(address)
        if token is None or not await anyio.to_thread.run_sync(self._is_live, token):
            return "550 5.1.1 No such touch address"
        if self.limiter.retry_after(hash_token(token)) is not None:
            return "451 4.7.1 Too many messages for this address: try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):  # decode_data is off: always bytes
            raw = str(raw).encode("utf-8", "surrogateescape")
        tokens = dict.fromkeys(t for a in envelope.rcpt_tos if (t := token_of(a)) is not None)
        today = date.today()
        for token in tokens:
            try:
                async with self.write_turn:
                    await anyio.to_thread.run_sync(
                        partial(log_message, self.factory, token, raw, today, envelope.mail_from)
                    )
            except FileRejected as error:
                return f"554 5.6.0 {error}"
            except Exception:
                log.exception("An inbound message could not be logged")
                return "451 4.3.0 The message could not be logged: try again later"
        return "250 OK"


@dataclass
class SmtpListener:
    server: asyncio.Server

    @property
    def port(self) -> int:
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        self.server.close()
        # Connections still open (a client in the middle of a conversation) are not waited for.
        with anyio.move_on_after(5):
            await self.server.wait_closed()


async def start_listener(
    settings: Settings, factory: sessionmaker[Session], write_turn: anyio.Semaphore
) -> SmtpListener:
    """The SMTP listener on ``settings.smtp_listen``, serving in the running event loop."""
    assert settings.smtp_listen is not None
    host, port = split_listen(settings.smtp_listen)
    handler = TouchMailHandler(factory, write_turn, settings.smtp_rate_limit)
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(
            handler,
            data_size_limit=settings.smtp_max_bytes,
            hostname=address_domain(settings).strip("[]"),
            ident="Givefirst",
            loop=loop,
        )

    server = await loop.create_server(protocol, host, port)
    log.info("Receiving touch mail on %s", settings.smtp_listen)
    return SmtpListener(server)
