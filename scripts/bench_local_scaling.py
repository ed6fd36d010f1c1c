r"""Where Qdrant's local mode stops scaling: build, memory, restart and search cost by store size.

For each ``--sizes`` entry (article passages; default 5,000, 20,000, 50,000, 100,000 and
200,000), two fresh processes over one fresh store under ``--store-dir`` (default /dev/shm):

1. **build**: the synthetic article passages of ``scripts/bench_suggestions.py`` (same generator,
   same seed), upserted through ``VectorIndex`` 256 per call as ``app.indexing`` writes them. It
   gives the upsert time, points/s and the RSS the process gains (local mode keeps every point in
   memory as Python objects).
2. **restart**: what a server start pays on that store. ``QdrantClient(path=...)`` (local mode
   reads every point back), ``VectorIndex.load()`` (the exact in-memory copy the engine searches,
   one scroll), the first search, and the RSS the process then holds. Then warm searches: the
   exact in-memory search at the engine's defaults (``--searches`` queries; p50), and, as the
   baseline, Qdrant local ``query_points`` filtered on workspace and kind (``--qdrant-calls``),
   which is what every search would cost without the in-memory copy.

The report gives per size the figures, the time and memory per point, and how they grow against
the smallest size, and names the first size where a restart takes longer than
``--restart-bound`` seconds or the restarted process holds more than ``--memory-bound`` MiB.

    .venv/bin/python scripts/bench_local_scaling.py                        # ~10 min here
    .venv/bin/python scripts/bench_local_scaling.py --sizes 2000,5000 --searches 20 \
        --qdrant-calls 1                                                   # quick check, ~20 s
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import bench_suggestions as workspace_bench  # noqa: E402

KIB_PER_MIB = 1024


def child_build(passages: int, args: argparse.Namespace) -> dict[str, Any]:
    """Make ``passages`` article points and upsert them into a fresh store at ``args.path``."""
    points, _ = workspace_bench.make_points(passages, args.seed, args.topics, args.spread_range)
    result = workspace_bench.build_store(points, args.path)
    result["passages"] = len(points)
    return result


def child_restart(passages: int, args: argparse.Namespace) -> dict[str, Any]:
    """Open the store as a server start does, read it into memory, then time searches."""
    import numpy as np

    bench = workspace_bench
    before = bench.proc_status_kib()
    start = time.perf_counter()
    from qdrant_client import QdrantClient

    from embeddings.index import DENSE, VectorIndex, _filter
    from embeddings.points import Query
    from embeddings.text import sparse_query

    imports_s = time.perf_counter() - start
    imported = bench.proc_status_kib()

    start = time.perf_counter()
    client = QdrantClient(path=str(args.path))
    open_s = time.perf_counter() - start
    opened = bench.proc_status_kib()

    index = VectorIndex(client, model_id=bench.MODEL_ID, dimension=bench.DIM)
    start = time.perf_counter()
    loaded = index.load()
    load_s = time.perf_counter() - start
    after_load = bench.proc_status_kib()

    # Pain-point-like queries near the same topic centres as the passages (same seed).
    synth = bench.Synth(args.seed, args.topics, args.spread_range)
    topics = [synth.topic() for _ in range(args.searches)]
    texts = [synth.pain_point(t) for t in topics]
    vectors = synth.vectors(topics)
    queries = [Query(v, sparse_query(t)) for v, t in zip(vectors, texts, strict=True)]
    config = bench.engine_config()
    depth = bench.article_depth(config)

    def search(query: Any) -> Any:
        return index.search_many(
            bench.WORKSPACE_ID,
            "article",
            [query],
            limit=depth,
            keyword_weight=config.keyword_weight,
        )

    start = time.perf_counter()
    search(queries[0])
    first_search_s = time.perf_counter() - start
    exact = []
    for query in queries:
        start = time.perf_counter()
        search(query)
        exact.append(time.perf_counter() - start)

    article_filter = _filter(bench.WORKSPACE_ID, "article")
    filtered = []
    for vector in vectors[: args.qdrant_calls]:
        start = time.perf_counter()
        client.query_points(
            index.collection,
            query=np.asarray(vector).tolist(),
            using=DENSE,
            query_filter=article_filter,
            limit=depth,
            with_payload=True,
        )
        filtered.append(time.perf_counter() - start)
    client.close()
    return {
        "passages": passages,
        "loaded_points": loaded,
        "imports_s": imports_s,
        "open_s": open_s,
        "load_s": load_s,
        "first_search_s": first_search_s,
        "restart_s": open_s + load_s + first_search_s,
        "rss_start_kib": before["VmRSS"],
        "rss_imported_kib": imported["VmRSS"],
        "rss_opened_kib": opened["VmRSS"],
        "rss_loaded_kib": after_load["VmRSS"],
        "hwm_kib": after_load["VmHWM"],
        "exact_search": bench.summary(exact),
        "qdrant_filtered": bench.summary(filtered),
    }


def run_child(mode: str, passages: int, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--child-{mode}",
        str(passages),
        "--path",
        str(path),
        "--seed",
        str(args.seed),
        "--topics",
        str(args.topics),
        "--spread",
        args.spread,
        "--searches",
        str(args.searches),
        "--qdrant-calls",
        str(args.qdrant_calls),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = time.perf_counter() - start
    return result


def measure(passages: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=args.store_dir) as tmp:
        path = Path(tmp) / "qdrant"
        build = run_child("build", passages, path, args)
        print(f"build {passages}: {build}", file=sys.stderr)
        restart = run_child("restart", passages, path, args)
        print(f"restart {passages}: {restart}", file=sys.stderr)
    return {"passages": passages, "build": build, "restart": restart}


def mib(kib: float) -> str:
    return f"{kib / KIB_PER_MIB:,.0f}"


def report(r: dict[str, Any], restart_bound: float, memory_bound: float) -> None:
    rows = r["sizes"]
    print("\n## Qdrant local mode by store size (article passages, each size a fresh store)\n")
    print(
        "| passages | upsert s | points/s | build RSS +MiB | KiB/point (build) | store MiB"
        " | open s | load s | first search s | restart s | restart RSS MiB | KiB/point (restart)"
        " | exact search p50 ms | Qdrant filtered query_points p50 ms | Qdrant / exact |"
    )
    print("| --- " * 15 + "|")
    for s in rows:
        n, b, t = s["passages"], s["build"], s["restart"]
        grown = b["rss_after_kib"] - b["rss_before_kib"]
        holds = t["rss_loaded_kib"] - t["rss_imported_kib"]
        exact = t["exact_search"]["p50_ms"]
        qdrant = t["qdrant_filtered"]["p50_ms"]
        print(
            f"| {n:,} | {b['upsert_s']:.1f} | {n / b['upsert_s']:,.0f} | {mib(grown)} |"
            f" {grown / n:.1f} | {b['disk_mib']:,.0f} | {t['open_s']:.2f} | {t['load_s']:.2f} |"
            f" {t['first_search_s']:.3f} | **{t['restart_s']:.1f}** | {mib(t['rss_loaded_kib'])} |"
            f" {holds / n:.1f} | {exact:.2f} | {qdrant:,.0f} | {qdrant / exact:,.0f}x |"
        )
    base = rows[0]
    print(f"\nGrowth against {base['passages']:,} passages (per point; 1.0 = linear):\n")
    print(
        "| passages | x points | upsert s per point | restart s per point | restart RSS per point"
        " | Qdrant query_points per point | exact search per point"
        " | KiB per added point (restart) |"
    )
    print("| --- " * 8 + "|")

    def per_point(s: dict[str, Any]) -> dict[str, float]:
        n, b, t = s["passages"], s["build"], s["restart"]
        return {
            "upsert": b["upsert_s"] / n,
            "restart": t["restart_s"] / n,
            "rss": (t["rss_loaded_kib"] - t["rss_imported_kib"]) / n,
            "qdrant": t["qdrant_filtered"]["p50_ms"] / n,
            "exact": t["exact_search"]["p50_ms"] / n,
        }

    def held(s: dict[str, Any]) -> float:
        return float(s["restart"]["rss_loaded_kib"] - s["restart"]["rss_imported_kib"])

    first = per_point(base)
    for previous, s in zip([None, *rows[:-1]], rows, strict=True):
        p = per_point(s)
        added = (
            f"{(held(s) - held(previous)) / (s['passages'] - previous['passages']):.1f}"
            if previous is not None
            else ""
        )
        print(
            f"| {s['passages']:,} | {s['passages'] / base['passages']:.0f} |"
            f" {p['upsert'] / first['upsert']:.2f} | {p['restart'] / first['restart']:.2f} |"
            f" {p['rss'] / first['rss']:.2f} | {p['qdrant'] / first['qdrant']:.2f} |"
            f" {p['exact'] / first['exact']:.2f} | {added} |"
        )
    slow = next((s for s in rows if s["restart"]["restart_s"] > restart_bound), None)
    big = next(
        (s for s in rows if s["restart"]["rss_loaded_kib"] / KIB_PER_MIB > memory_bound), None
    )
    for label, hit, bound in (
        (f"restart over {restart_bound:g} s", slow, "restart_s"),
        (f"restarted process over {memory_bound:,.0f} MiB", big, "rss_loaded_kib"),
    ):
        if hit is None:
            print(f"\nNo size measured passes the bound ({label}).")
        else:
            value = hit["restart"][bound]
            shown = f"{value:.1f} s" if bound == "restart_s" else f"{mib(value)} MiB"
            print(f"\nFirst size past the bound ({label}): {hit['passages']:,} passages ({shown}).")
    print(f"\nLoad average at start {r['loadavg_start']}, at end {r['loadavg_end']}.")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="examples:\n" + __doc__.rstrip().split("\n\n")[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="5000,20000,50000,100000,200000",
        help="article passages per store, comma-separated",
    )
    parser.add_argument(
        "--store-dir",
        type=Path,
        default=workspace_bench.DEFAULT_STORE_DIR,
        help="where the stores are made (default /dev/shm, a tmpfs, if present)",
    )
    parser.add_argument("--searches", type=int, default=100, help="warm exact searches per size")
    parser.add_argument(
        "--qdrant-calls", type=int, default=3, help="filtered query_points calls per size"
    )
    parser.add_argument(
        "--restart-bound", type=float, default=10.0, help="seconds a restart may take (10)"
    )
    parser.add_argument(
        "--memory-bound", type=float, default=1024.0, help="MiB a restarted server may hold (1024)"
    )
    parser.add_argument("--topics", type=int, default=400, help="as in bench_suggestions.py")
    parser.add_argument("--spread", default="0.8,1.6", help="as in bench_suggestions.py")
    parser.add_argument("--seed", type=int, default=20261121, help="for every random draw")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--child-build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-restart", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    lo, hi = (float(s) for s in args.spread.split(","))
    args.spread_range = (lo, hi)
    if args.child_build:
        print(json.dumps(child_build(args.child_build, args)))
        return
    if args.child_restart:
        print(json.dumps(child_restart(args.child_restart, args)))
        return

    results: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "loadavg_start": os.getloadavg(),
        "sizes": [],
    }
    start = time.perf_counter()
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        results["sizes"].append(measure(size, args))
    results["wall_s"] = time.perf_counter() - start
    results["loadavg_end"] = os.getloadavg()
    report(results, args.restart_bound, args.memory_bound)
    print(f"Wall time {results['wall_s']:.0f} s.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
