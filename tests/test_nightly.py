"""The nightly batch: the day's list, its order and budget, idempotence, crash recovery, the
digest and its delivery (a real SMTP server and a real HTTP receiver on loopback), the command
line, and running beside the server."""

import hashlib
import hmac
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.daily.nightly import NightlyError, NightlyOptions, run_nightly
from app.db import session_scope
from app.models import DailyItem, DailyList, Give, Suggestion
from app.runtime import open_database
from tests.conftest import (
    copy_data_dir,
    database_url,
    error_text,
    get_json,
    make_contact,
    make_settings,
    running_api,
    write_held,
)
from tests.fixtures.due_network import (
    ARTICLES,
    EXPECTED_ORDER,
    NETWORK,
    TODAY,
    build_network,
    days_ago,
)
from tests.helpers import ROOT, Mailbox, command_env, free_port, givefirst_command, smtp_settings


# name, tier, days since the last touch (cadences A 90, B 182, C 365), pain point
def nightly(data_dir: Path, day: date = TODAY, **options: Any) -> list[Any]:
    settings = make_settings(data_dir).model_copy(update=options.pop("settings", {}))
    return run_nightly(settings, NightlyOptions(day=day, **options))


def counts(data_dir: Path) -> tuple[int, int, int]:
    runtime = open_database(make_settings(data_dir))
    try:
        with session_scope(runtime.session_factory) as session:
            return tuple(  # type: ignore[return-value]
                session.scalar(select(func.count()).select_from(table)) or 0
                for table in (DailyList, DailyItem, Suggestion)
            )
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def network_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the network above, built once; tests copy it (``fresh``)."""
    data_dir = tmp_path_factory.mktemp("network") / "data"
    with running_api(data_dir) as api:
        build_network(api)
    return data_dir


@pytest.fixture
def fresh(network_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the network's data folder."""
    copy = tmp_path / "data"
    copy_data_dir(network_dir, copy)
    return copy


def names(outcome: Any) -> list[str]:
    return [item.contact.name for item in outcome.daily.items]


# -- the list ------------------------------------------------------------------------------------


def test_most_overdue_first_tier_a_on_ties_budget_caps_and_the_rest_is_spread(fresh: Path) -> None:
    (outcome,) = nightly(fresh, budget=3)
    assert names(outcome) == EXPECTED_ORDER[:3]
    assert outcome.daily.due_count == 7  # Hal is not due
    kinds = {item.contact.name: item.suggestion.kind for item in outcome.daily.items}
    assert kinds["Ana Overdue-B"] == "article"  # her pain point has a matching article
    assert kinds["Ben Overdue-A"] == "check_in"  # no pain points: a check-in, never a random gift
    spread = [[c.name for c in day.contacts] for day in outcome.daily.coming_up]
    assert spread == [EXPECTED_ORDER[3:6], EXPECTED_ORDER[6:]]
    assert [day.date for day in outcome.daily.coming_up] == [
        TODAY + timedelta(1),
        TODAY + timedelta(2),
    ]

    # The next night, the contacts that did not fit come first, as planned; yesterday's are
    # still due (nothing was sent) and come after them.
    (tomorrow,) = nightly(fresh, day=TODAY + timedelta(1), budget=3)
    assert names(tomorrow) == EXPECTED_ORDER[3:6]
    (after,) = nightly(fresh, day=TODAY + timedelta(2), budget=3)
    assert names(after) == [EXPECTED_ORDER[6], *EXPECTED_ORDER[:2]]


def test_a_light_day_pulls_forward_only_contacts_with_a_real_gift(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_api(data_dir) as api:
        headers = api.headers("acme")
        title, summary = ARTICLES[0]
        api.client.post("/articles", json={"title": title, "summary": summary}, headers=headers)
        for name, pain in (("Soon With Gift", NETWORK[0][3]), ("Soon Nothing", None)):
            body: dict[str, Any] = {"name": name, "tier": "A", "last_contacted_on": days_ago(87)}
            if pain:
                body["pain_points"] = [pain]
            assert api.client.post("/contacts", json=body, headers=headers).status_code == 201
    (outcome,) = nightly(data_dir)  # both are due in 3 days; nobody is due today
    assert outcome.daily.due_count == 0
    assert names(outcome) == ["Soon With Gift"]
    assert outcome.daily.items[0].suggestion.kind == "article"
    assert outcome.daily.items[0].overdue_days == -3


def test_running_twice_gives_the_same_list_and_no_duplicates(fresh: Path) -> None:
    (first,) = nightly(fresh)
    stored = counts(fresh)
    md, js = first.files
    written = (md.read_text(), js.read_text())
    (second,) = nightly(fresh)
    assert first.built and not second.built
    assert second.daily == first.daily
    assert counts(fresh) == stored
    assert stored[0] == 1 and stored[1] == len(first.daily.items) == 5
    assert (md.read_text(), js.read_text()) == written


def test_the_digest_has_each_contact_suggestion_reason_and_draft(fresh: Path) -> None:
    (outcome,) = nightly(fresh, budget=7)
    md_path, json_path = outcome.files
    assert md_path == fresh / "digests" / "1-acme" / f"{TODAY.isoformat()}.md"
    document = json.loads(json_path.read_text())
    assert document["date"] == TODAY.isoformat() and document["workspace"] == "acme"
    assert [i["contact"]["name"] for i in document["items"]] == EXPECTED_ORDER
    markdown = md_path.read_text()
    for item in document["items"]:
        suggestion = item["suggestion"]
        assert item["contact"]["name"] in markdown
        assert suggestion["reason"] and suggestion["reason"] in markdown
        draft = suggestion["draft"] or next(iter(suggestion["drafts"].values()))
        assert draft.splitlines()[0] in markdown
    assert "How to choose an employee engagement survey vendor" in markdown


def test_no_two_workspaces_share_a_digest_folder(tmp_path: Path) -> None:
    """Names that make the same slug ("team a", "team/a"), differ only by case (one folder
    where file names ignore case) or climb out of the folder each get a folder of their own."""
    workspaces = ["team a", "team/a", "team?a", "Team A", "TEAM-A", "../team a", "..", "acme"]
    data_dir = tmp_path / "data"
    with running_api(data_dir) as api:
        for name in workspaces:
            make_contact(api.client, api.headers(name), name="Someone")

    outcomes = nightly(data_dir)

    out = data_dir / "digests"
    folders = {outcome.workspace: outcome.files[1].parent for outcome in outcomes}
    assert sorted(folders) == sorted(workspaces)
    assert len({folder.name.lower() for folder in folders.values()}) == len(workspaces)
    for name, folder in folders.items():
        assert folder.parent == out
        assert json.loads((folder / f"{TODAY.isoformat()}.json").read_text())["workspace"] == name
    assert folders["team a"].name.endswith("-team-a")  # still readable
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in folders.values())


def test_a_workspace_with_no_contacts_gets_no_list_and_no_digest(tmp_path: Path) -> None:
    """A first start makes a workspace for its key; until it has contacts there is nothing to
    plan, and the batch writes nothing for it (by name too)."""
    data_dir = tmp_path / "data"
    with running_api(data_dir) as api:
        api.headers("empty")
        make_contact(api.client, api.headers("acme"), name="Someone")

    outcomes = nightly(data_dir)
    by_name = nightly(data_dir, workspace="empty")

    assert [outcome.workspace for outcome in outcomes] == ["acme"]
    assert by_name == []
    folders = [p.name for p in (data_dir / "digests").iterdir()]
    assert len(folders) == 1 and folders[0].endswith("-acme")


def test_the_api_serves_the_list_and_its_items_can_be_acted_on(fresh: Path) -> None:
    (outcome,) = nightly(fresh)
    with running_api(fresh) as api:
        headers = api.headers("acme")
        daily = get_json(api.client, "/daily", headers, date=TODAY.isoformat())
        assert daily == json.loads(outcome.daily.model_dump_json())
        assert get_json(api.client, "/daily", headers) == daily  # default: today
        first = daily["items"][0]["suggestion"]
        sent = api.client.post(f"/suggestions/{first['id']}/sent", headers=headers)
        assert sent.status_code == 200 and sent.json()["status"] == "sent"
        second = daily["items"][1]["suggestion"]
        dismissed = api.client.post(
            f"/suggestions/{second['id']}/dismiss", json={"reason": "bad_timing"}, headers=headers
        )
        assert dismissed.status_code == 200
        after = get_json(api.client, "/daily", headers, date=TODAY.isoformat())
        assert [i["suggestion"]["status"] for i in after["items"][:2]] == ["sent", "dismissed"]

        missing = api.client.get("/daily", headers=headers, params={"date": "2020-01-01"})
        assert missing.status_code == 404 and "2020-01-01" in error_text(missing)
        bad = api.client.get("/daily", headers=headers, params={"date": "tomorrow"})
        assert bad.status_code == 422 and "date" in error_text(bad)
        other = api.headers("other")
        assert api.client.get("/daily", headers=other).status_code == 404  # not theirs
    with session_scope(open_database(make_settings(fresh)).session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Give)) == 1


def test_the_api_builds_the_same_list_the_batch_would(fresh: Path, tmp_path: Path) -> None:
    batch_dir = tmp_path / "batch"
    copy_data_dir(fresh, batch_dir)
    (outcome,) = nightly(batch_dir)
    with running_api(fresh) as api:
        headers = api.headers("acme")
        built = api.client.post("/daily", headers=headers)
        assert built.status_code == 200, built.text
        items = built.json()["items"]
        assert [i["contact"]["name"] for i in items] == names(outcome)
        assert [i["suggestion"]["kind"] for i in items] == [
            i.suggestion.kind for i in outcome.daily.items
        ]


def test_dry_run_stores_writes_and_sends_nothing(fresh: Path) -> None:
    before = counts(fresh)
    (outcome,) = nightly(fresh, dry_run=True)
    assert names(outcome) == EXPECTED_ORDER[:5]
    assert outcome.files is None
    assert counts(fresh) == before
    assert not (fresh / "digests").exists()


def test_the_batch_reads_touches_a_contact_met_yesterday_is_not_due(fresh: Path) -> None:
    with running_api(fresh) as api:
        headers = api.headers("acme")
        ben = next(
            c
            for c in get_json(api.client, "/contacts", headers, limit=50)["items"]
            if c["name"] == "Ben Overdue-A"
        )
        met = api.client.post(
            f"/contacts/{ben['id']}/touches",
            json={"kind": "meeting", "happened_on": days_ago(1), "subject": "Coffee"},
            headers=headers,
        )
        assert met.status_code == 201, met.text

    (outcome,) = nightly(fresh, dry_run=True)

    assert "Ben Overdue-A" in EXPECTED_ORDER[:5]
    assert names(outcome) == [n for n in EXPECTED_ORDER if n != "Ben Overdue-A"][:5]


# -- crash recovery ------------------------------------------------------------------------------


def test_killed_halfway_the_next_run_finishes_without_duplicates(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    workspaces = [f"team-{n}" for n in range(6)]
    with running_api(data_dir) as api:
        for workspace in workspaces:
            build_network(api, workspace)
    process = subprocess.Popen(
        givefirst_command("nightly"),
        env=command_env(data_dir),
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "contact(s) listed" in line:  # the first workspace's list is committed
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=120)
    assert process.returncode == -signal.SIGKILL
    lists_before, items_before, _ = counts(data_dir)
    assert 1 <= lists_before < len(workspaces), "the kill should land halfway"
    assert items_before == 5 * lists_before  # no half-written list
    with session_scope(open_database(make_settings(data_dir)).session_factory) as session:
        kept = {
            (row.workspace_id, row.id): [i.suggestion_id for i in row.items]
            for row in session.scalars(select(DailyList))
        }

    outcomes = nightly(data_dir)
    assert [o.built for o in outcomes].count(False) == lists_before
    lists, items, _ = counts(data_dir)
    assert (lists, items) == (len(workspaces), 5 * len(workspaces))
    with session_scope(open_database(make_settings(data_dir)).session_factory) as session:
        for row in session.scalars(select(DailyList)):
            if (row.workspace_id, row.id) in kept:  # lists built before the kill are unchanged
                assert [i.suggestion_id for i in row.items] == kept[(row.workspace_id, row.id)]
        assert all(  # one suggestion per contact and target, one item per contact and list
            n == 1
            for n in session.scalars(
                select(func.count())
                .select_from(Suggestion)
                .group_by(Suggestion.contact_id, Suggestion.target_key)
            )
        )


# -- beside a long write -------------------------------------------------------------------------

# Writes give up after 0.2 s behind another write (not 15), and a list is tried 3 times.
BUSY = {"database_busy_timeout_seconds": 0.2, "nightly_attempts": 3, "nightly_retry_seconds": 0.1}
# SQLite has one writer per database file, so another process's long write stops the batch's; on
# PostgreSQL the batch writes beside it (tests/test_replicas.py), and there is nothing to wait out.
ONE_WRITER = pytest.mark.sqlite_only("another process's long write blocks the batch's writes")


@ONE_WRITER
def test_a_long_write_costs_only_the_lists_it_blocks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    with running_api(data_dir) as api:
        for workspace in ("first", "second"):
            build_network(api, workspace)
    releases: list[Callable[[], None]] = []

    with ExitStack() as stack:

        def progress(message: str) -> None:
            # Another process writes through the whole of the first workspace's turn.
            if message.startswith("[1/2]"):
                releases.append(stack.enter_context(write_held(data_dir)))
            elif message.startswith("[2/2]"):
                releases[0]()

        with caplog.at_level(logging.WARNING, logger="app.daily.nightly"):
            first, second = run_nightly(
                make_settings(data_dir, **BUSY), NightlyOptions(day=TODAY), progress
            )

    assert first.daily is None and not first.built and first.files is None
    assert first.not_built is not None and "stayed busy" in first.not_built
    assert second.built and second.daily is not None and len(second.daily.items) == 5
    logged = [record.getMessage() for record in caplog.records]
    assert [m for m in logged if " of 3 in " in m] == [
        f"first: the list met another write (database is locked); attempt {n} of 3 in {wait} s"
        for n, wait in ((2, 0.1), (3, 0.2))
    ]
    assert any(m.startswith("first: no list built") for m in logged), logged
    assert counts(data_dir)[0] == 1
    # The next run builds the missing list and keeps the other as it was.
    assert [o.built for o in nightly(data_dir)] == [True, False]
    assert counts(data_dir)[0] == 2


@ONE_WRITER
def test_the_command_exits_4_naming_the_lists_it_could_not_build(fresh: Path) -> None:
    env = command_env(fresh, **{name: str(v) for name, v in BUSY.items()})
    with write_held(fresh):
        result = subprocess.run(
            givefirst_command("nightly"),
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 4, result.stderr
    assert "no list built for workspace 'acme'" in result.stderr
    assert "the database stayed busy" in result.stderr and "Traceback" not in result.stderr
    assert counts(fresh)[0] == 0

    rerun = subprocess.run(
        givefirst_command("nightly"), env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    assert counts(fresh)[0] == 1


# -- delivery ------------------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    """A real HTTP receiver: records each POST; answers 503 to the first ``failures`` of them."""

    received: list[tuple[dict[str, str], bytes]]
    failures: int
    status_after: int

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        status = 503 if len(self.received) <= self.failures else self.status_after
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Handler", (Receiver,), {"received": [], "failures": 2, "status_after": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/digest", handler
    server.shutdown()
    server.server_close()


def test_webhook_is_signed_retried_and_not_repeated(fresh: Path, receiver: Any) -> None:
    url, handler = receiver
    secret = "s3cret-for-tests"
    (outcome,) = nightly(fresh, webhook_url=url, settings={"webhook_secret": secret})
    assert outcome.delivered == ["webhook"] and not outcome.errors
    assert len(handler.received) == 3  # two 503s, then accepted
    headers, body = handler.received[-1]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Givefirst-Signature"] == expected
    assert json.loads(body) == json.loads(outcome.files[1].read_text())
    assert len({h["X-Givefirst-Delivery"] for h, _ in handler.received}) == 1

    (again,) = nightly(fresh, webhook_url=url, settings={"webhook_secret": secret})
    assert again.delivered == [] and len(handler.received) == 3  # delivered once only


def test_a_webhook_that_refuses_is_reported_and_the_list_kept(fresh: Path, receiver: Any) -> None:
    url, handler = receiver
    handler.failures, handler.status_after = 0, 404
    result = subprocess.run(
        givefirst_command("nightly", "--webhook", url),
        env=command_env(fresh, webhook_secret="k"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 3, result.stderr
    assert "HTTP 404" in result.stderr and "delivery failed" in result.stderr
    assert len(handler.received) == 1  # a 404 is not retried
    assert counts(fresh)[0] == 1


@ONE_WRITER
def test_a_delivery_that_cannot_be_recorded_is_reported(fresh: Path, receiver: Any) -> None:
    url, handler = receiver
    handler.failures = 0
    held = ExitStack()

    def receive_while_another_process_writes(self: Receiver) -> None:
        # Held past the batch's busy timeout, while it records the delivery.
        threading.Timer(1.0, held.enter_context(write_held(fresh))).start()
        Receiver.do_POST(self)

    handler.do_POST = receive_while_another_process_writes
    with held:
        (outcome,) = nightly(fresh, webhook_url=url, settings={"webhook_secret": "k", **BUSY})
    assert outcome.delivered == [] and len(handler.received) == 1
    assert outcome.errors == [
        "acme: webhook: delivered, but not recorded (the database stayed busy with another "
        "write): the next run delivers it again"
    ]
    assert counts(fresh)[0] == 1  # the list itself is stored


def test_email_goes_through_a_real_smtp_server_once(fresh: Path) -> None:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp = smtp_settings(port)
    try:
        (outcome,) = nightly(fresh, email=True, settings=smtp)
        (again,) = nightly(fresh, email=True, settings=smtp)
    finally:
        controller.stop()
    assert outcome.delivered == ["email"] and again.delivered == []
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "me@example.com" and "acme" in message["Subject"]
    parts = {part.get_content_type(): part for part in message.walk()}
    body = parts["text/plain"].get_payload(decode=True).decode()
    assert all(item.contact.name in body for item in outcome.daily.items)
    assert "text/html" in parts and message["Date"]
    attached = json.loads(parts["application/json"].get_payload(decode=True))
    assert attached == json.loads(outcome.files[1].read_text())


def test_email_without_settings_is_refused_before_anything_runs(fresh: Path) -> None:
    with pytest.raises(NightlyError, match="GIVEFIRST_SMTP_HOST"):
        nightly(fresh, email=True)
    assert counts(fresh)[0] == 0


# -- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--date", "2026-13-45"], 2, "is not a date"),
        (["--workspace", "nobody"], 1, "No workspace named 'nobody'"),
        (["--budget", "0"], 2, "--budget"),
    ],
)
def test_bad_options_exit_non_zero_with_a_message(
    fresh: Path, args: list[str], code: int, message: str
) -> None:
    result = subprocess.run(
        givefirst_command("nightly", *args),
        env=command_env(fresh),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == code
    assert message in result.stderr
    assert counts(fresh)[0] == 0


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_an_unusable_data_folder_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    data_dir = tmp_path / "data"
    if kind == "a file":
        data_dir.write_text("not a folder")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "nightly_suggestions.py")],
        env=command_env(data_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if kind == "missing" and database_url(data_dir) is not None:
        # The records are in PostgreSQL: the folder only holds vectors and is made on first use.
        assert result.returncode == 0, result.stderr
        assert data_dir.is_dir()
        return
    assert result.returncode == 1
    assert str(data_dir) in result.stderr
    assert "Traceback" not in result.stderr


def test_help_documents_every_option() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "nightly_suggestions.py"), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0
    for option in ("--date", "--workspace", "--out", "--budget", "--webhook", "--email"):
        assert option in result.stdout
    assert "--dry-run" in result.stdout


def test_plain_log_lines_when_not_on_a_terminal_and_dry_run_prints(fresh: Path) -> None:
    result = subprocess.run(
        givefirst_command("nightly", "--dry-run", "--date", TODAY.isoformat()),
        env=command_env(fresh),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "nightly: [1/1] acme" in result.stderr and "\x1b[" not in result.stderr
    assert "# Give first" in result.stdout and "Ana Overdue-B" in result.stdout
    assert counts(fresh)[0] == 0


# -- beside the server ---------------------------------------------------------------------------


def test_runs_beside_the_server_on_the_same_data_folder(fresh: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        givefirst_command("serve", "--port", str(port)),
        env=command_env(fresh),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.3)
        with running_keys(fresh) as key:
            headers = {"Authorization": f"Bearer {key}"}
            result = subprocess.run(
                givefirst_command("nightly"),
                env=command_env(fresh),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr
            daily = httpx.get(f"{base}/daily", headers=headers, timeout=30)
            assert daily.status_code == 200, daily.text
            assert [i["contact"]["name"] for i in daily.json()["items"]] == EXPECTED_ORDER[:5]
            # The server still writes and searches: nothing is locked or corrupted.
            created = httpx.post(
                f"{base}/contacts",
                json={"name": "New Person", "pain_points": ["engagement survey vendor choice"]},
                headers=headers,
                timeout=30,
            )
            assert created.status_code == 201, created.text
            suggestions = httpx.get(
                f"{base}/contacts/{created.json()['id']}/suggestions", headers=headers, timeout=30
            )
            assert suggestions.status_code == 200
            assert suggestions.json()["items"][0]["kind"] == "article"
    finally:
        server.terminate()
        server.wait(timeout=60)


@contextmanager
def running_keys(data_dir: Path) -> Iterator[str]:
    """A key for ``acme`` made with the CLI (the server is running)."""
    result = subprocess.run(
        givefirst_command("keys", "create", "acme"),
        env=command_env(data_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    yield result.stdout.strip().splitlines()[-1]
