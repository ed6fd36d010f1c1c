"""Feeds against a real HTTP server on 127.0.0.1 (allowed by GIVEFIRST_FETCH_ALLOWED_HOSTS):
RSS 2.0, Atom, a page that links a feed, broken feeds, and 304 answers to conditional requests.
The server's own scheduler polls them, as it does in production."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.backup import backup, restore
from app.daily.mail import render_text
from app.daily.nightly import NightlyOptions, run_nightly
from scripts.feed_server import (
    ATOM_TYPE,
    HTML_TYPE,
    FeedServer,
    Item,
    Route,
    article_page,
    atom_feed,
    feed_server,
    rss_feed,
)
from tests.conftest import (
    Api,
    Headers,
    Json,
    database_env,
    error_text,
    get_json,
    make_article,
    make_contact,
    make_settings,
    running_api,
)

NOW = datetime.now(UTC).replace(microsecond=0)
TIMEOUT_S = 1.0
FEED_SETTINGS: dict[str, Any] = {
    "fetch_allowed_hosts": ["127.0.0.1"],
    "fetch_timeout_seconds": TIMEOUT_S,
    "feed_check_seconds": 0.2,
    "feed_poll_minutes": 60,
}

SURVEY_TEXT = (
    "Choosing a firm to run your employee engagement survey: ask every vendor about benchmarks "
    "for your industry, the anonymity threshold and how managers turn results into action."
)
PAGE_PARAGRAPH = (
    "Ask to speak with a customer of your size who has run the engagement survey for three "
    "years: what changed after the first year?"
)


@pytest.fixture(scope="module")
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path / "data", **FEED_SETTINGS) as running:
        yield running


def _rss_items(server: FeedServer, prefix: str) -> list[Item]:
    return [
        Item(
            title="Choosing an engagement survey vendor",
            link=server.url(f"/{prefix}/survey"),
            published=NOW - timedelta(days=1),
            summary="What to ask survey firms.",
            content=SURVEY_TEXT,
        ),
        Item(  # a summary only: the page is fetched for the full text
            title="Three years of surveys",
            link=server.url(f"/{prefix}/three-years"),
            published=NOW - timedelta(days=2),
            summary="A customer's view.",
        ),
        Item(  # older than GIVEFIRST_FEED_MAX_AGE_DAYS (30): skipped
            title="An old post about offsites",
            link=server.url(f"/{prefix}/old"),
            published=NOW - timedelta(days=90),
            content="Offsites, planned long ago.",
        ),
    ]


def serve_rss(server: FeedServer, prefix: str) -> str:
    server.serve(
        f"/{prefix}/three-years",
        Route(article_page("Three years of surveys", [PAGE_PARAGRAPH] * 3), HTML_TYPE),
    )
    return server.serve(
        f"/{prefix}/rss.xml",
        Route(
            rss_feed("People Ops Weekly", server.url(f"/{prefix}/"), _rss_items(server, prefix)),
            etag=f'"{prefix}-v1"',
            last_modified="Mon, 30 Nov 2026 10:00:00 GMT",
        ),
    )


def serve_atom_behind_page(server: FeedServer, prefix: str) -> str:
    """An Atom feed, and the home page that links it (the URL returned)."""
    items = [
        Item(  # the same article as the RSS feed's first item: saved once
            title="Choosing an engagement survey vendor (again)",
            link=server.url(f"/{prefix}/survey"),
            published=NOW - timedelta(hours=5),
            content=SURVEY_TEXT,
        ),
        Item(
            title="Running a calibration meeting",
            link=server.url(f"/{prefix}/calibration"),
            published=NOW - timedelta(hours=3),
            content="How to run a performance calibration meeting without surprises.",
        ),
    ]
    server.serve(
        f"/{prefix}/atom.xml",
        Route(atom_feed("Talent Notes", server.url(f"/{prefix}/"), items), ATOM_TYPE, etag='"a1"'),
    )
    page = (
        "<!doctype html><html><head><title>Talent Notes</title>"
        f'<link rel="alternate" type="application/atom+xml" href="/{prefix}/atom.xml">'
        "</head><body><p>Welcome.</p></body></html>"
    )
    return server.serve(f"/{prefix}/home", Route(page.encode(), HTML_TYPE))


def givefirst(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``givefirst ARGS`` in a process of its own, on ``data_dir``'s records."""
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env={**os.environ, "GIVEFIRST_DATA_DIR": str(data_dir), **database_env(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def subscribe(client: TestClient, headers: Headers, url: str, **extra: object) -> Json:
    response = client.post("/feeds", json={"url": url, **extra}, headers=headers)
    assert response.status_code in (200, 201), response.text
    body: Json = response.json()
    return body


def wait_for_polls(
    client: TestClient, headers: Headers, after: datetime | None = None, timeout: float = 60
) -> list[Json]:
    """The feeds once each has been polled (since ``after``) by the server's own scheduler."""
    deadline = time.monotonic() + timeout
    while True:
        listed: list[Json] = client.get("/feeds", headers=headers).json()["items"]
        polled = [
            f["last_polled_at"] is not None
            and (after is None or datetime.fromisoformat(f["last_polled_at"]) >= after)
            for f in listed
        ]
        if all(polled):
            return listed
        assert time.monotonic() < deadline, f"not polled in {timeout} s: {listed}"
        time.sleep(0.1)


def articles_by_url(client: TestClient, headers: Headers) -> dict[str, Json]:
    listed = get_json(client, "/articles", headers, limit=500)["items"]
    return {a["url"]: a for a in listed}


def test_the_server_polls_rss_and_atom_and_a_second_poll_stores_nothing_twice(
    api: Api, headers: Headers, feeds: FeedServer
) -> None:
    client = api.client
    rss = serve_rss(feeds, "t1")
    home = serve_atom_behind_page(feeds, "t1")

    first = subscribe(client, headers, rss, tags=["hr"])
    second = subscribe(client, headers, home)
    assert (first["created"], first["status"], first["title"]) == (True, "new", "People Ops Weekly")
    assert second["url"] == feeds.url("/t1/atom.xml")  # found on the page
    assert second["title"] == "Talent Notes"
    again = subscribe(client, headers, rss, tags=["people"])
    assert (again["id"], again["created"], again["tags"]) == (first["id"], False, ["hr", "people"])

    listed = wait_for_polls(client, headers)
    assert [(f["status"], f["last_error"], f["failures"]) for f in listed] == [("ok", None, 0)] * 2
    saved = articles_by_url(client, headers)
    assert sorted(saved) == sorted(
        feeds.url(f"/t1/{name}") for name in ("survey", "three-years", "calibration")
    )  # the old item skipped, the shared one saved once
    survey = saved[feeds.url("/t1/survey")]
    assert survey["text"] == SURVEY_TEXT
    assert "hr" in survey["tags"]  # the feed's tags (those it had when the poll began)
    assert PAGE_PARAGRAPH in saved[feeds.url("/t1/three-years")]["text"]  # from its page
    assert feeds.requests["/t1/three-years"] == 1

    # The second poll: conditional requests, answered 304; nothing new is stored.
    before = datetime.now(UTC)
    assert client.post("/feeds/poll", headers=headers).status_code == 202
    listed = wait_for_polls(client, headers, after=before)
    assert [f["status"] for f in listed] == ["not_modified"] * 2
    assert (feeds.not_modified["/t1/rss.xml"], feeds.not_modified["/t1/atom.xml"]) == (1, 1)
    assert articles_by_url(client, headers).keys() == saved.keys()

    # The feed changes but keeps its items (no validators now): still nothing stored twice.
    feeds.serve("/t1/rss.xml", Route(rss_feed("P", "x", _rss_items(feeds, "t1"))))
    before = datetime.now(UTC)
    client.post("/feeds/poll", headers=headers)
    listed = wait_for_polls(client, headers, after=before)
    assert listed[0]["status"] == "ok"
    assert get_json(client, "/articles", headers)["total"] == 3
    assert feeds.requests["/t1/three-years"] == 1


def test_new_items_are_found_for_the_contacts_who_need_them(
    api: Api, headers: Headers, feeds: FeedServer, tmp_path: Path
) -> None:
    client = api.client
    make_contact(
        client,
        headers,
        name="Dana Reyes",
        pain_points=["Finding the right firm to run our employee engagement survey"],
    )
    subscribe(client, headers, serve_rss(feeds, "t2"))
    wait_for_polls(client, headers)
    survey = articles_by_url(client, headers)[feeds.url("/t2/survey")]
    recipients = get_json(client, f"/articles/{survey['id']}/recipients", headers)
    assert recipients["items"][0]["contact"]["name"] == "Dana Reyes"

    settings = make_settings(api.data_dir, **FEED_SETTINGS)
    outcomes = run_nightly(settings, NightlyOptions(day=NOW.date(), out_dir=tmp_path / "out"))
    assert outcomes[0].files is not None
    digest = outcomes[0].files[0].read_text()
    section = digest.split("## New this week", 1)[1]
    assert "Choosing an engagement survey vendor" in section
    assert "Dana Reyes" in section
    assert "employee engagement survey" in section  # why: her pain point
    assert "An old post" not in digest
    outcome = outcomes[0]
    assert outcome.daily is not None
    mail = render_text(outcome.daily, outcome.health, outcome.mail).split("New this week", 1)[1]
    assert "Choosing an engagement survey vendor" in mail and "for Dana Reyes" in mail


def test_the_nightly_polls_the_feeds_before_it_builds_the_lists(
    tmp_path: Path, feeds: FeedServer
) -> None:
    data_dir = tmp_path / "data"
    with running_api(data_dir, **{**FEED_SETTINGS, "feed_poll_minutes": 0}) as api:
        headers = api.headers()
        make_contact(
            api.client,
            headers,
            name="Dana Reyes",
            tier="A",
            pain_points=["Finding the right firm to run our employee engagement survey"],
        )
        subscribe(api.client, headers, serve_rss(feeds, "t13"))
        assert get_json(api.client, "/articles", headers)["total"] == 0  # not polled yet
    fetched = feeds.requests["/t13/rss.xml"]  # subscribing reads the feed once
    settings = make_settings(data_dir, **FEED_SETTINGS)
    said: list[str] = []
    for options in (
        NightlyOptions(day=NOW.date(), out_dir=tmp_path / "out", dry_run=True),
        NightlyOptions(day=NOW.date(), out_dir=tmp_path / "out", poll_feeds=False, budget=1),
    ):
        run_nightly(settings, replace(options, workspace="acme"), said.append)
        assert feeds.requests["/t13/rss.xml"] == fetched
    assert not any(line.startswith("feeds:") for line in said)

    later = NOW.date() + timedelta(days=1)  # a day with no list yet
    (outcome,) = run_nightly(
        settings, NightlyOptions(day=later, out_dir=tmp_path / "out"), said.append
    )
    assert "feeds: 1 polled, 2 new article(s), 0 failed" in said
    assert feeds.requests["/t13/rss.xml"] == fetched + 1
    assert outcome.files is not None
    section = outcome.files[0].read_text().split("## New this week", 1)[1]
    assert "Choosing an engagement survey vendor" in section and "Dana Reyes" in section
    with running_api(data_dir, **{**FEED_SETTINGS, "feed_poll_minutes": 0}) as api:
        assert get_json(api.client, "/articles", api.headers())["total"] == 2


def test_a_failing_feed_is_recorded_and_does_not_stop_the_others(
    api: Api, headers: Headers, feeds: FeedServer
) -> None:
    client = api.client
    feeds.serve("/t3/not-a-feed", Route(b"<html><body>Hello</body></html>", HTML_TYPE))
    feeds.serve("/t3/broken.xml", Route(b"<rss><channel><item><title>Half"))
    feeds.serve("/t3/slow.xml", Route(rss_feed("Slow", "x", []), delay_seconds=TIMEOUT_S * 3))
    feeds.serve("/t3/picture", Route(b"\x89PNG\r\n", "image/png"))
    good = serve_rss(feeds, "t3")
    failing = {
        feeds.url("/t3/gone.xml"): "answered HTTP 404",
        feeds.url("/t3/not-a-feed"): "not a readable RSS or Atom feed",
        feeds.url("/t3/broken.xml"): "not a readable RSS or Atom feed",
        feeds.url("/t3/slow.xml"): f"did not answer within {TIMEOUT_S:g} s",
        feeds.url("/t3/picture"): "is not a feed (Content-Type: image/png)",
        "http://feeds.invalid/rss": "could not be resolved",
        f"http://localhost:{feeds.base.rsplit(':', 1)[1]}/t3/rss.xml": "loopback",
    }
    # An OPML list subscribes without fetching: the feeds fail at their first poll.
    outlines = "".join(f'<outline type="rss" text="F" xmlUrl="{url}"/>' for url in [*failing, good])
    opml = f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'
    report = client.post(
        "/imports/articles", files={"file": ("feeds.opml", opml.encode())}, headers=headers
    ).json()
    assert (report["format"], report["created"]) == ("opml", len(failing) + 1)

    listed = {f["url"]: f for f in wait_for_polls(client, headers)}
    for url, says in failing.items():
        feed = listed[url]
        assert (feed["status"], feed["failures"]) == ("error", 1), feed
        assert says in feed["last_error"], feed
        # Backed off: twice the poll interval (an hour) before the next try.
        wait = datetime.fromisoformat(feed["next_poll_at"]) - datetime.fromisoformat(
            feed["last_polled_at"]
        )
        assert wait == timedelta(hours=2)
    assert listed[good]["status"] == "ok"
    assert feeds.url("/t3/survey") in articles_by_url(client, headers)
    # The failing ones on their own, a page at a time.
    errors = get_json(client, "/feeds", headers, status="error", limit=5)
    assert (errors["total"], len(errors["items"])) == (len(failing), 5)
    rest = get_json(client, "/feeds", headers, status="error", limit=5, offset=5)["items"]
    assert {f["url"] for f in errors["items"] + rest} == set(failing)
    assert [f["url"] for f in get_json(client, "/feeds", headers, status="ok")["items"]] == [good]
    unknown = client.get("/feeds", params={"status": "broken"}, headers=headers)
    assert unknown.status_code == 422 and "status" in error_text(unknown)


def test_a_feed_being_fetched_holds_up_no_other_workspaces_writes(
    api: Api, headers: Headers, feeds: FeedServer
) -> None:
    client = api.client
    url = serve_rss(feeds, "t12")
    subscribe(client, headers, url)
    wait_for_polls(client, headers)
    held = threading.Event()
    feeds.serve("/t12/rss.xml", Route(rss_feed("P", "x", _rss_items(feeds, "t12")), hold=held))
    asked = feeds.requests["/t12/rss.xml"]
    before = datetime.now(UTC)
    client.post("/feeds/poll", headers=headers)
    try:
        deadline = time.monotonic() + 30
        while feeds.requests["/t12/rss.xml"] == asked:  # the poll is waiting on the feed
            assert time.monotonic() < deadline
            time.sleep(0.05)
        other = api.headers("globex")
        made = client.post("/contacts", json={"name": "Lee"}, headers=other)
        assert made.status_code == 201  # written while the feed is still being fetched
        saved = client.post("/articles", json={"title": "Mine"}, headers=headers)
        assert saved.status_code == 201  # in the feed's own workspace too
        polled = client.get("/feeds", headers=headers).json()["items"][0]["last_polled_at"]
        assert datetime.fromisoformat(polled) < before  # this poll has not ended
    finally:
        held.set()
    assert wait_for_polls(client, headers, after=before)[0]["status"] == "ok"


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/t4/page-without-feed", "links no RSS or Atom feed"),
        ("/t4/missing", "answered HTTP 404"),
    ],
)
def test_what_is_no_feed_is_refused_with_a_reason(
    api: Api, headers: Headers, feeds: FeedServer, path: str, says: str
) -> None:
    feeds.serve(
        "/t4/page-without-feed", Route(b"<html><head></head><body>x</body></html>", HTML_TYPE)
    )
    response = api.client.post("/feeds", json={"url": feeds.url(path)}, headers=headers)
    assert response.status_code == 422
    assert says in error_text(response)
    assert api.client.get("/feeds", headers=headers).json()["items"] == []


def test_a_private_address_is_refused_as_saving_by_url_refuses_it(
    tmp_path: Path, feeds: FeedServer
) -> None:
    with running_api(tmp_path / "data") as api:  # 127.0.0.1 not allowed here
        headers = api.headers()
        response = api.client.post("/feeds", json={"url": serve_rss(feeds, "t5")}, headers=headers)
        assert response.status_code == 422
        assert "loopback" in error_text(response)
        bad = api.client.post("/feeds", json={"url": "ftp://example.org/rss"}, headers=headers)
        assert bad.status_code == 422 and "url:" in error_text(bad)
        assert api.client.get("/feeds", headers=headers).json()["items"] == []


def test_another_workspaces_feeds_are_out_of_reach(
    api: Api, headers: Headers, feeds: FeedServer
) -> None:
    client = api.client
    feed = subscribe(client, headers, serve_rss(feeds, "t6"))
    wait_for_polls(client, headers)
    other = api.headers("globex")
    assert client.get(f"/feeds/{feed['id']}", headers=other).status_code == 404
    assert client.delete(f"/feeds/{feed['id']}", headers=other).status_code == 404
    assert client.get("/feeds", headers=other).json()["items"] == []
    assert get_json(client, "/articles", other)["total"] == 0
    assert client.post("/feeds/poll", headers=other).json() == {"feeds": 0}
    assert client.get(f"/feeds/{feed['id']}", headers=headers).status_code == 200

    # Its own: deleted, the articles saved from it stay.
    assert client.delete(f"/feeds/{feed['id']}", headers=headers).status_code == 204
    assert client.get(f"/feeds/{feed['id']}", headers=headers).status_code == 404
    assert get_json(client, "/articles", headers)["total"] == 2


def test_an_item_saved_by_hand_is_not_saved_again(
    api: Api, headers: Headers, feeds: FeedServer
) -> None:
    client = api.client
    by_link = make_article(client, headers, title="Mine", url=feeds.url("/t7/survey"))
    by_text = make_article(client, headers, title="Pasted", text="Offsites, planned long ago.")
    items = [
        Item("Survey", feeds.url("/t7/survey"), NOW, content=SURVEY_TEXT),
        Item("Offsites", feeds.url("/t7/offsites"), NOW, content="Offsites, planned long ago."),
    ]
    subscribe(client, headers, feeds.serve("/t7/rss.xml", Route(rss_feed("S", "x", items))))
    wait_for_polls(client, headers)
    saved = get_json(client, "/articles", headers)["items"]
    assert sorted(a["id"] for a in saved) == sorted([by_link["id"], by_text["id"]])
    assert get_json(client, f"/articles/{by_link['id']}", headers)["title"] == "Mine"


def test_feeds_travel_with_the_workspace_export(
    api: Api, headers: Headers, feeds: FeedServer
) -> None:
    client = api.client
    subscribe(client, headers, serve_rss(feeds, "t8"), tags=["hr"])
    wait_for_polls(client, headers)
    document = client.get("/export", headers=headers).json()
    assert [(f["url"], f["tags"], len(f["items"])) for f in document["feeds"]] == [
        (feeds.url("/t8/rss.xml"), ["hr"], 2)
    ]

    other = api.headers("restored")
    # Changed (no validators now): the restored feed is polled in full, at once.
    feeds.serve("/t8/rss.xml", Route(rss_feed("P", "x", _rss_items(feeds, "t8"))))
    before = datetime.now(UTC)
    restore = client.post(
        "/imports/workspace",
        files={"file": ("export.json", client.get("/export", headers=headers).content)},
        headers=other,
    )
    assert restore.status_code == 200, restore.text
    assert restore.json()["feeds"] == 1
    listed = client.get("/feeds", headers=other).json()["items"]
    assert [(f["url"], f["tags"]) for f in listed] == [(feeds.url("/t8/rss.xml"), ["hr"])]
    # Polled in the restored workspace: its items are known, nothing is saved twice.
    assert wait_for_polls(client, other, after=before)[0]["status"] == "ok"
    assert get_json(client, "/articles", other)["total"] == 2
    assert client.get("/export", headers=other).json()["feeds"] == document["feeds"]


def test_the_cli_polls_when_the_server_is_stopped(tmp_path: Path, feeds: FeedServer) -> None:
    data_dir = tmp_path / "data"
    with running_api(data_dir, **{**FEED_SETTINGS, "feed_poll_minutes": 0}) as api:
        headers = api.headers()
        feed = subscribe(api.client, headers, serve_rss(feeds, "t9"))
        assert feed["next_poll_at"].startswith("2999")  # the server does not poll by itself
    env = {"GIVEFIRST_FETCH_ALLOWED_HOSTS": "127.0.0.1"}
    result = givefirst(data_dir, env, "feeds", "poll", "-w", "acme")
    assert result.returncode == 0, result.stderr
    assert f"{feed['id']}\tok\t2 saved, 0 already saved, 1 too old" in result.stdout
    listed = givefirst(data_dir, env, "feeds", "list")
    assert f"{feed['id']}\tok\t" in listed.stdout
    unknown = givefirst(data_dir, env, "feeds", "poll", "-w", "nobody")
    assert unknown.returncode == 1 and "No workspace 'nobody'" in unknown.stderr


def test_the_cli_asks_the_running_server(tmp_path: Path, feeds: FeedServer) -> None:
    data_dir = tmp_path / "data"
    with running_api(data_dir, **{**FEED_SETTINGS, "feed_poll_minutes": 0}) as api:
        headers, other = api.headers(), api.headers("other")
        feed = subscribe(api.client, headers, serve_rss(feeds, "t10"))
        theirs = subscribe(api.client, other, serve_rss(feeds, "t10b"))
        done = givefirst(
            data_dir, {"GIVEFIRST_FEED_CHECK_SECONDS": "0.2"}, "feeds", "poll", "-w", "acme"
        )
        assert done.returncode == 0, done.stderr
        assert "asked it to poll 1 feed(s)" in done.stderr
        assert f"{feed['id']}\tok\t" in done.stdout
        # Only the named workspace's feeds are asked for and reported (a line per feed, its id
        # first).
        reported = [line.split("\t", 1)[0] for line in done.stdout.splitlines() if "\t" in line]
        assert reported == [str(feed["id"])] and str(theirs["id"]) not in reported
        assert get_json(api.client, "/articles", headers)["total"] == 2


@pytest.mark.sqlite_only("givefirst backup copies the SQLite files")
def test_feeds_survive_a_backup_and_a_restore(tmp_path: Path, feeds: FeedServer) -> None:
    data_dir, copy = tmp_path / "data", tmp_path / "backup"
    with running_api(data_dir, **FEED_SETTINGS) as api:
        headers = api.headers()
        feed = subscribe(api.client, headers, serve_rss(feeds, "t11"), tags=["hr"])
        wait_for_polls(api.client, headers)
        backup(make_settings(data_dir), copy)  # while the server runs
    restored_dir = tmp_path / "restored"
    restore(make_settings(restored_dir), copy)
    with running_api(restored_dir, **FEED_SETTINGS) as api:
        headers = api.headers()
        listed = api.client.get("/feeds", headers=headers).json()["items"]
        assert [(f["id"], f["url"], f["tags"], f["status"]) for f in listed] == [
            (feed["id"], feed["url"], ["hr"], "ok")
        ]
        before = datetime.now(UTC)
        api.client.post("/feeds/poll", headers=headers)
        # The validators came back too: the feed answers 304, nothing is saved twice.
        assert wait_for_polls(api.client, headers, after=before)[0]["status"] == "not_modified"
        assert get_json(api.client, "/articles", headers)["total"] == 2
