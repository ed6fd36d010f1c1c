r"""Benchmark of feed polling: ``--feeds`` feeds of ``--items`` items each, served by a real HTTP
server on 127.0.0.1 (``scripts/feed_server.py``), polled by ``FeedPoller`` as the server and
``givefirst feeds poll`` poll them, with the real model (ONNX) and Qdrant Edge.

Each phase runs in a fresh process on a fresh data folder (so a fresh embedding cache: every
text is embedded for real), and reports its wall time and its peak RSS (``ru_maxrss``):

* ``direct`` (the baseline): the same feeds' documents imported as files, one
  ``import_article_file`` per feed (what ``POST /imports/articles`` does with an RSS file): the
  same articles saved, embedded and indexed, with no HTTP, no claim and no item records;
* ``poll``: the feeds subscribed, then a first poll (every item new: fetched, read by
  feedparser, saved through the article-import service in short write turns), then a second poll
  with nothing new (every feed answers 304 to the conditional request).

The items carry their full text (``content:encoded``), so no item page is fetched.

    .venv/bin/python scripts/bench_feeds.py                          # 50 feeds x 20 items
    .venv/bin/python scripts/bench_feeds.py --feeds 200 --items 50   # the issue's size: long
    .venv/bin/python scripts/bench_feeds.py --feeds 10 --items 10    # quick

The default is scaled down from the issue's 200 x 50: every item is embedded for real, twice
(once per phase), and 10,000 items took well over ten minutes a phase on the shared 2-core
machine.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from scripts.feed_server import Item, Route, feed_server, rss_feed  # noqa: E402

WORDS = [
    "engagement",
    "survey",
    "vendor",
    "benchmark",
    "anonymity",
    "manager",
    "action",
    "plan",
    "payroll",
    "hiring",
    "onboarding",
    "retention",
    "attrition",
    "compensation",
    "equity",
    "review",
    "calibration",
    "promotion",
    "feedback",
    "coaching",
    "leadership",
    "offsite",
    "remote",
    "hybrid",
    "office",
    "policy",
    "benefits",
    "pension",
    "health",
    "wellbeing",
    "burnout",
    "workload",
    "headcount",
    "budget",
    "forecast",
    "interview",
    "recruiter",
    "sourcing",
    "offer",
    "negotiation",
    "contract",
    "layoff",
    "severance",
    "culture",
    "values",
    "mission",
    "strategy",
    "roadmap",
    "quarter",
    "goal",
    "metric",
    "dashboard",
    "training",
    "learning",
    "mentoring",
    "succession",
    "talent",
    "pipeline",
    "diversity",
    "inclusion",
    "belonging",
]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def feed_document(base: str, feed: int, items: int, today: date) -> bytes:
    """Feed ``feed``'s RSS: the same bytes in every process (seeded by the feed's number)."""
    rng = random.Random(feed)
    entries = []
    for number in range(items):
        published = datetime.combine(today, datetime.min.time(), UTC) - timedelta(
            hours=rng.randint(1, 20 * 24)
        )
        entries.append(
            Item(
                title=f"{_sentence(rng, 6)[:-1]} ({feed}-{number})",
                link=f"{base}/f{feed}/items/{number}",
                published=published,
                summary=_sentence(rng, 20),
                content=" ".join(_sentence(rng, 15) for _ in range(3)),  # ~45 words
            )
        )
    return rss_feed(f"Feed {feed}", f"{base}/f{feed}/", entries)


def _settings(data_dir: Path) -> Any:
    from app.config import Settings

    return Settings(
        data_dir=data_dir,
        qdrant_url=None,
        database_url=None,
        fetch_allowed_hosts=["127.0.0.1"],
        feed_poll_minutes=60,
    )


def _workspace(runtime: Any) -> int:
    from app.db import session_scope
    from app.workspaces.service import get_or_create_workspace

    with session_scope(runtime.session_factory, write=True) as session:
        workspace, _ = get_or_create_workspace(session=session, name="bench")
        return int(workspace.id)


def _count_articles(runtime: Any) -> int:
    from sqlalchemy import func, select

    from app.models import Article

    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def phase_direct(base: str, feeds: int, items: int, data_dir: Path) -> dict[str, Any]:
    from app.db import session_scope
    from app.imports.service import import_article_file
    from app.models import Workspace
    from app.runtime import runtime_scope

    today = date.today()
    documents = [feed_document(base, f, items, today) for f in range(feeds)]
    with runtime_scope(_settings(data_dir)) as runtime:
        workspace_id = _workspace(runtime)
        started = time.perf_counter()
        for data in documents:
            with session_scope(runtime.session_factory, write=True) as session:
                workspace = session.get(Workspace, workspace_id)
                import_article_file(
                    session=session,
                    indexer=runtime.indexer,
                    workspace=workspace,
                    data=data,
                    format_name="feed",
                    today=today,
                )
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "articles": _count_articles(runtime)}


def phase_poll(base: str, feeds: int, data_dir: Path) -> dict[str, Any]:
    from app.db import session_scope
    from app.feeds import service
    from app.feeds.poller import FeedPoller, poll_config
    from app.models import Workspace
    from app.runtime import runtime_scope

    settings = _settings(data_dir)
    with runtime_scope(settings) as runtime:
        workspace_id = _workspace(runtime)
        factory = runtime.session_factory
        with session_scope(factory, write=True) as session:
            workspace = session.get(Workspace, workspace_id)
            for f in range(feeds):
                service.subscribe(
                    session=session,
                    workspace=workspace,
                    url=f"{base}/f{f}/rss.xml",
                    tags=[],
                    now=datetime.now(UTC),
                    poll_minutes=60,
                )
        poller = FeedPoller(
            session_factory=factory,
            indexer=runtime.indexer,
            write_turn=lambda: session_scope(factory, write=True),
            config=poll_config(settings),
        )
        started = time.perf_counter()
        first = poller.poll(workspace_id=workspace_id, due_only=False)
        first_seconds = time.perf_counter() - started
        articles = _count_articles(runtime)
        started = time.perf_counter()
        second = poller.poll(workspace_id=workspace_id, due_only=False)
        second_seconds = time.perf_counter() - started
        return {
            "first_seconds": first_seconds,
            "second_seconds": second_seconds,
            "articles": articles,
            "articles_after_second": _count_articles(runtime),
            "first_statuses": sorted({r.status.value for r in first}),
            "second_statuses": sorted({r.status.value for r in second}),
            "errors": [r.error for r in first + second if r.error][:3],
        }


def run_phase(phase: str, base: str, feeds: int, items: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="givefirst-bench-feeds-") as folder:
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--phase",
                phase,
                "--base",
                base,
                "--feeds",
                str(feeds),
                "--items",
                str(items),
                "--data-dir",
                str(Path(folder) / "data"),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "GIVEFIRST_LOG_LEVEL": "WARNING"},
        )
    if child.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{child.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1, help="runs of each phase (median)")
    parser.add_argument("--phase", choices=("direct", "poll"), help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase is not None:  # a child: one phase, its figures as JSON on the last line
        if args.phase == "direct":
            result = phase_direct(args.base, args.feeds, args.items, args.data_dir)
        else:
            result = phase_poll(args.base, args.feeds, args.data_dir)
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    today = date.today()
    with feed_server() as server:
        for f in range(args.feeds):
            server.serve(
                f"/f{f}/rss.xml",
                Route(
                    feed_document(server.base, f, args.items, today),
                    etag=f'"f{f}-v1"',
                    last_modified="Mon, 30 Nov 2026 10:00:00 GMT",
                ),
            )
        direct, poll = [], []
        for _ in range(args.runs):
            direct.append(run_phase("direct", server.base, args.feeds, args.items))
            poll.append(run_phase("poll", server.base, args.feeds, args.items))
        requests, not_modified = sum(server.requests.values()), sum(server.not_modified.values())

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    direct_s, first_s = median(direct, "seconds"), median(poll, "first_seconds")
    second_s = median(poll, "second_seconds")
    total = args.feeds * args.items
    print(f"feeds x items: {args.feeds} x {args.items} = {total} items; runs: {args.runs}")
    print(f"load: {os.getloadavg()[0]:.1f}")
    print(
        f"direct import (baseline): {direct_s:.1f} s, {direct[0]['articles']} articles, "
        f"{total / direct_s:.0f} items/s, peak RSS {median(direct, 'peak_rss_mib'):.0f} MiB"
    )
    print(
        f"first poll: {first_s:.1f} s, {poll[0]['articles']} articles, "
        f"{total / first_s:.0f} items/s, ratio to direct {first_s / direct_s:.2f}"
    )
    print(
        f"second poll (nothing new): {second_s:.2f} s, statuses {poll[0]['second_statuses']}, "
        f"articles after {poll[0]['articles_after_second']}"
    )
    print(f"poll process peak RSS: {median(poll, 'peak_rss_mib'):.0f} MiB")
    print(f"HTTP requests served: {requests} ({not_modified} answered 304)")
    if poll[0]["errors"]:
        print(f"errors: {poll[0]['errors']}")


if __name__ == "__main__":
    main()
