r"""Benchmark of the network's health: ``GET /network/health``'s figures on 10,000 contacts.

Builds a temporary SQLite database (the service's own schema, by its migrations) with one
workspace of ``--contacts`` contacts, each with a field set by the user, a tier, a title, a company
(from 2,000), a last touch up to 600 days ago (one in ten never contacted) and a creation day up to
700 days ago, about ``--gives`` gives and ``--asks`` asks per contact, and a stored daily list for
each of the last 90 days. Then, each a median of ``--runs`` runs in a fresh session:

* the figures alone: ``app.network.health.measure`` over records already read;
* the figure path: ``app.network.service.network_health``, reading the records (columns, scoped
  to the workspace) and measuring, with every field given (no inference);
* the route's path: ``workspace_health`` with the real ``CachedEmbedder`` (the job families'
  phrases come from the embedding cache; no contact to infer);
* baselines in the same run: a plain ``SELECT * FROM contacts WHERE workspace_id = ?``, and the
  same plus the workspace's gives and asks (the rows the figures read, and nothing done with them);
* the figure path again with the garbage collector paused, to show the collector's share.

Field inference is kept out of those figures (it needs the model): a second workspace of
``--infer-contacts`` contacts without a field is measured apart, once cold (the model embeds every
profile) and then warm (every profile's vector from the embedding cache).

    .venv/bin/python scripts/bench_network_health.py                     # full size, ~1 min
    .venv/bin/python scripts/bench_network_health.py --contacts 1000 --infer-contacts 200
"""

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.config import Settings  # noqa: E402
from app.models import Ask, Contact, DailyList, Give, GiveKind, Workspace  # noqa: E402
from app.network.config import HealthConfig  # noqa: E402
from app.network.health import measure  # noqa: E402
from app.network.service import load_records, network_health, workspace_health  # noqa: E402
from app.runtime import open_database, open_embedder  # noqa: E402
from app.workspaces.service import cadences_for, get_or_create_workspace  # noqa: E402

TODAY = date(2026, 11, 30)
FIELDS = (
    "Human Resources", "Education", "Finance", "Software and IT", "Sales", "Marketing",
    "Healthcare", "Operations", "Legal", "Consulting", "Nonprofit", "Design",
)  # fmt: skip
FIELD_WEIGHTS = (30, 8, 8, 8, 7, 7, 6, 6, 5, 5, 5, 5)
TITLES = (
    "HR Director", "Teacher", "Controller", "Software Engineer", "Account Executive", "CHRO",
    "Marketing Manager", "Nurse", "Operations Manager", "Attorney", "Consultant", "Designer",
    "VP, People", "Head of Talent", "Recruiter", "Professor", "Analyst", "Founder",
)  # fmt: skip
KINDS = tuple(GiveKind)


def past(rng: random.Random) -> date:
    """A day in the last 700 days."""
    return TODAY - timedelta(rng.randint(0, 700))


def build(session: Session, name: str, n: int, args: argparse.Namespace, fields: bool) -> int:
    """A workspace of ``n`` synthetic contacts with a ledger; returns its id."""
    rng = random.Random(f"{args.seed}:{name}")
    workspace, _ = get_or_create_workspace(session=session, name=name)
    first = (session.scalar(select(Contact.id).order_by(Contact.id.desc()).limit(1)) or 0) + 1
    rows = []
    for i in range(n):
        last = None if rng.random() < 0.1 else TODAY - timedelta(rng.randint(0, 600))
        added = TODAY - timedelta(rng.randint(0, 700))
        rows.append(
            {
                "id": first + i,
                "workspace_id": workspace.id,
                "name": f"Contact {i}",
                "tier": rng.choices("ABC", (2, 4, 4))[0],
                "field": rng.choices(FIELDS, FIELD_WEIGHTS)[0] if fields else None,
                "title": rng.choice(TITLES),
                "company": f"Company {rng.randint(1, 2000)}",
                "last_contacted_on": last,
                "created_at": datetime.combine(added, day_time(), tzinfo=UTC)
                + timedelta(seconds=rng.randint(0, 86_399)),
            }
        )
    session.execute(insert(Contact), rows)
    gives, asks = [], []
    for row in rows:
        owner = {"workspace_id": workspace.id, "contact_id": row["id"]}
        gives += [
            {**owner, "given_on": past(rng), "kind": rng.choice(KINDS), "description": "a give"}
            for _ in range(rng.randint(0, 2 * args.gives))
        ]
        asks += [
            {**owner, "asked_on": past(rng), "description": "an ask"}
            for _ in range(rng.randint(0, 2 * args.asks))
        ]
    if gives:
        session.execute(insert(Give), gives)
    if asks:
        session.execute(insert(Ask), asks)
    session.execute(
        insert(DailyList),
        [
            {"workspace_id": workspace.id, "day": TODAY - timedelta(d), "budget": 5, "due_count": 9}
            for d in range(90)
        ],
    )
    session.commit()
    return workspace.id


class Timing(NamedTuple):
    median: float  # wall, ms
    cpu_median: float  # the process's CPU time, ms: less swayed by other jobs on the cores
    times: list[float]  # every run's wall time, ms


def timed(runs: int, fn: Callable[[], Any]) -> Timing:
    """Wall and CPU time of ``runs`` calls, in milliseconds."""
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        times.append((time.perf_counter() - start) * 1000)
    return Timing(statistics.median(times), statistics.median(cpu), times)


def without_gc(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` with Python's cyclic garbage collector paused: how much of its time the collector's
    passes over the process's objects take."""

    def run() -> Any:
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--gives", type=int, default=2, help="mean gives per contact")
    parser.add_argument("--asks", type=int, default=1, help="mean asks per contact")
    parser.add_argument("--infer-contacts", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    report: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="bench-health-") as folder:
        settings = Settings(data_dir=Path(folder), database_url=None, qdrant_url=None)
        records = open_database(settings)
        factory = records.session_factory
        with factory() as session:
            start = time.perf_counter()
            big = build(session, "bench", args.contacts, args, fields=True)
            small = build(session, "infer", args.infer_contacts, args, fields=False)
            report["build_s"] = round(time.perf_counter() - start, 1)
        embedder = open_embedder(settings, records.closing)

        def with_session(fn: Callable[[Session, Workspace], Any], ws: int) -> Callable[[], Any]:
            def run() -> Any:
                with factory() as session:
                    workspace = session.get(Workspace, ws)
                    assert workspace is not None
                    return fn(session, workspace)

            return run

        def plain_select(session: Session, workspace: Workspace) -> Any:
            return (
                session.connection()
                .exec_driver_sql("SELECT * FROM contacts WHERE workspace_id = ?", (workspace.id,))
                .all()
            )

        def rows_read(session: Session, workspace: Workspace) -> Any:
            connection = session.connection()
            return [
                connection.exec_driver_sql(
                    f"SELECT * FROM {table} WHERE workspace_id = ?", (workspace.id,)
                ).all()
                for table in ("contacts", "gives", "asks")
            ]

        def figure_path(session: Session, workspace: Workspace) -> Any:
            return network_health(
                session=session,
                workspace=workspace,
                cadences=cadences_for(workspace, settings),
                inference=None,
                today=TODAY,
                config=HealthConfig(),
            )

        def route_path(session: Session, workspace: Workspace) -> Any:
            return workspace_health(
                session=session,
                workspace=workspace,
                embedder=embedder,
                settings=settings,
                today=TODAY,
            )

        with factory() as session:
            workspace = session.get(Workspace, big)
            assert workspace is not None
            records = load_records(session=session, workspace=workspace, inference=None)
            cadences = cadences_for(workspace, settings)
        route_path_once = with_session(route_path, big)
        route_path_once()  # the families' phrases into the embedding cache (once, ever)
        rows: dict[str, Timing] = {
            "baseline: SELECT * FROM contacts": timed(args.runs, with_session(plain_select, big)),
            "baseline: SELECT * FROM contacts, gives, asks": timed(
                args.runs, with_session(rows_read, big)
            ),
            "figures alone (measure)": timed(
                args.runs,
                lambda: measure(records, cadences=cadences, today=TODAY, config=HealthConfig()),
            ),
            "figure path (network_health: read + measure)": timed(
                args.runs, with_session(figure_path, big)
            ),
            "route path (workspace_health, embedder cached)": timed(args.runs, route_path_once),
            "figure path with the garbage collector paused (for comparison)": timed(
                args.runs, without_gc(with_session(figure_path, big))
            ),
        }
        infer = with_session(route_path, small)
        cold = timed(1, infer)
        warm = timed(args.runs, infer)
        records.close()
    report.update(
        contacts=args.contacts,
        gives_and_asks={"gives": len(records.gives.days), "asks": len(records.asks.days)},
        infer_contacts=args.infer_contacts,
        runs=args.runs,
        load_average=[round(load_start, 2), round(os.getloadavg()[0], 2)],
        cpus=os.cpu_count(),
        medians_ms={name: round(t.median, 1) for name, t in rows.items()},
        cpu_medians_ms={name: round(t.cpu_median, 1) for name, t in rows.items()},
        runs_ms={name: [round(x, 1) for x in t.times] for name, t in rows.items()},
        inference_ms={"cold": round(cold.median, 1), "warm_median": round(warm.median, 1)},
    )
    print(f"{report['date']}: {args.contacts:,} contacts, {len(records.gives.days):,} gives, "
          f"{len(records.asks.days):,} asks; load average {report['load_average']}")  # fmt: skip
    print("| what | median ms | CPU ms | x SELECT contacts | runs (ms) |")
    print("| --- | --- | --- | --- | --- |")
    base = rows["baseline: SELECT * FROM contacts"].median
    for name, t in rows.items():
        runs = ", ".join(f"{x:.0f}" for x in sorted(t.times))
        print(f"| {name} | {t.median:.1f} | {t.cpu_median:.1f} | {t.median / base:.1f} | {runs} |")
    print(
        f"| field inference, {args.infer_contacts:,} contacts without a field: cold (the model "
        f"embeds them) | {cold.median:.0f} | {cold.cpu_median:.0f} | | |\n"
        f"| the same, warm (vectors from the embedding cache) | {warm.median:.1f} | "
        f"{warm.cpu_median:.1f} | {warm.median / base:.1f} | |"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
