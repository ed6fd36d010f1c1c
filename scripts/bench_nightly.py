r"""Benchmark of the nightly batch: ``givefirst nightly`` on 10,000 contacts and 20,000 articles.

Builds a data folder with one workspace of ``--contacts`` contacts (1-3 pain points each, about
half with 1-2 expertise lines) and ``--articles`` articles (~3 passages each): the synthetic
workspace of ``scripts/benchkit/workspace.py``, which ``scripts/bench_suggestions.py`` measures
too. It fills the embedding cache with every text's vector under the packaged model's id
("embeddings already cached", as after the server has indexed everything). The vectors are random
unit vectors around topic centres (embedding 20,000 articles with the real model takes hours on
2 cores); the model is still loaded by the batch, as in
production, and any cache miss would be embedded for real.

Then it runs the real command, ``givefirst nightly --date …``, in a fresh process each time:

* ``--runs`` full runs, each on a fresh copy of the data folder (median wall time; peak RSS of
  the process from ``wait4``), with the time from the first to the last log line (the batch's own
  work: reading the records and the cache, building its temporary Qdrant Edge index of the
  workspace's articles and expertise in the system temp folder, ranking, storing, writing the
  digest);
* baselines in the same run: the same command again for the same day (the list exists: start-up
  and a lookup; the model is not loaded) and ``givefirst --help`` (interpreter and imports).

The data folder holds no vector index: the batch never opens the server's (``app.daily.nightly``).

    .venv/bin/python scripts/bench_nightly.py                       # full size, a few minutes
    .venv/bin/python scripts/bench_nightly.py --articles 1000 --contacts 500 --runs 1   # quick
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from scripts.benchkit import workspace as workspace_bench  # noqa: E402

GIVEFIRST = Path(sys.executable).parent / "givefirst"
_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) nightly: ")


class CacheFiller:
    """Takes the benchmark's index points and stores their vectors in the embedding cache, keyed
    as ``CachedEmbedder`` keys them (pain points as queries, the rest as documents)."""

    def __init__(self, cache: Any, model_id: str) -> None:
        self.cache = cache
        self.model_id = model_id

    def upsert(self, points: Any) -> None:
        from embeddings.cache import text_hash

        vectors = {}
        for p in points:
            role = "query" if p.kind == "pain_point" else "document"
            vectors[text_hash(f"{role}\x00{p.text}")] = p.dense
        self.cache.put_many(self.model_id, vectors)


def build_data_folder(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from app.config import Settings
    from app.runtime import EMBEDDING_CACHE_FILE, configured_model, open_database
    from embeddings.cache import EmbeddingCache

    settings = Settings(data_dir=folder, database_url=None, qdrant_url=None)
    folder.mkdir(parents=True)
    records = open_database(settings)
    cache = EmbeddingCache(folder / EMBEDDING_CACHE_FILE)
    records.closing.callback(cache.close)
    model_id = configured_model(settings).model_id
    timings: dict[str, Any] = {}
    data = workspace_bench.build_workspace(
        args, records.session_factory, CacheFiller(cache, model_id), timings
    )
    records.close()
    return {"counts": data.counts, "timings": timings}


def run(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; wall time, peak RSS (KiB) and the span of its timestamped log lines."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    stamps = [
        datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
        for line in err.splitlines()
        if (m := _LOG_TIME.match(line))
    ]
    work = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) >= 2 else float("nan")
    return {"seconds": seconds, "max_rss_kib": usage.ru_maxrss, "work_s": work, "stdout": out}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="examples:\n" + __doc__.rstrip().split("\n\n")[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="full runs on fresh copies")
    parser.add_argument("--topics", type=int, default=400)
    parser.add_argument("--spread", default="0.8,1.6")
    parser.add_argument("--stale-fraction", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--build-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    day = workspace_bench.TODAY.isoformat()
    if args.build_into:  # child process: build, print the counts, exit (frees its memory)
        print(json.dumps(build_data_folder(args.build_into, args)))
        return

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp_name:
        tmp = Path(tmp_name)
        start = time.perf_counter()
        # Built in a child process: a forked child inherits its parent's peak RSS, so the parent
        # stays small for the measured runs' figures to be their own.
        child = subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], "--build-into", str(tmp / "template")],
            check=True,
            capture_output=True,
            text=True,
        )
        built = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"data folder built in {time.perf_counter() - start:.0f} s: {built['counts']}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIVEFIRST_")}
        full = []
        for n in range(args.runs):
            folder = tmp / f"run{n}"
            shutil.copytree(tmp / "template", folder)
            run_env = {**env, "GIVEFIRST_DATA_DIR": str(folder)}
            full.append(run([str(GIVEFIRST), "nightly", "--date", day], run_env))
            print(f"run {n + 1}: {full[-1]['seconds']:.1f} s", file=sys.stderr)
        again = run([str(GIVEFIRST), "nightly", "--date", day], run_env)
        bare = run([str(GIVEFIRST), "--help"], env)
        listed = next((folder / "digests").glob(f"*-bench/{day}.json")).read_text()

    c = built["counts"]
    seconds = [r["seconds"] for r in full]
    work = [r["work_s"] for r in full]
    peak = max(r["max_rss_kib"] for r in full) / 1024
    print(
        f"\n## Nightly batch: {c['contacts']:,} contacts ({c['pain_points']:,} pain points,"
        f" {c['expertise']:,} expertise lines), {c['articles']:,} articles"
        f" ({c['article_points']:,} passages), embeddings cached\n"
    )
    print("| what | median s | runs | peak RSS MiB |")
    print("| --- | --- | --- | --- |")
    print(
        f"| `givefirst nightly`, a fresh day | {statistics.median(seconds):.1f} |"
        f" {', '.join(f'{s:.1f}' for s in seconds)} | {peak:.0f} |"
    )
    print(
        f"| ↳ from the first log line to the last (the batch's own work) |"
        f" {statistics.median(work):.1f} | {', '.join(f'{s:.1f}' for s in work)} | |"
    )
    print(
        f"| baseline: the same day again (list exists) | {again['seconds']:.1f} | 1 |"
        f" {again['max_rss_kib'] / 1024:.0f} |"
    )
    print(
        f"| baseline: `givefirst --help` | {bare['seconds']:.1f} | 1 |"
        f" {bare['max_rss_kib'] / 1024:.0f} |"
    )
    print(
        f"\nRatio: a fresh day / the re-run = {statistics.median(seconds) / again['seconds']:.1f}x."
        f" Digest: {len(listed):,} bytes of JSON. Load average at the end: {os.getloadavg()}."
    )


if __name__ == "__main__":
    main()
