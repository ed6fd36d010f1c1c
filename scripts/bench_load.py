"""Load on a running ``givefirst serve``: N concurrent clients mixing reads and writes for a
bounded time, then a check that every acknowledged write is stored.

    .venv/bin/python scripts/bench_load.py --base-url http://127.0.0.1:8000 --key gf_... \\
        --clients 32 --seconds 30

Loopback only: it refuses any other host. Prints requests, errors, lost writes, throughput and
p50/p99 latency; exits 1 if any request failed or any acknowledged write is missing.
"""

import argparse
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TOPICS = ["engagement survey vendor", "hiring a first engineer", "payroll software", "a seed round"]


@dataclass
class LoadResult:
    requests: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)
    articles: list[int] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def writes(self) -> int:
        return len(self.contacts) + len(self.articles)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def summary(self) -> str:
        return (
            f"{self.requests} requests in {self.seconds:.1f} s "
            f"({self.requests / max(self.seconds, 1e-9):.1f}/s), {self.writes} writes, "
            f"{len(self.errors)} errors, {len(self.lost)} lost writes; latency "
            f"p50 {self.percentile(0.5) * 1000:.0f} ms, p99 {self.percentile(0.99) * 1000:.0f} ms, "
            f"mean {statistics.fmean(self.latencies or [0]) * 1000:.0f} ms"
        )


def _client_loop(
    base_url: str, key: str, number: int, deadline: float, write_share: float, result: LoadResult
) -> None:
    rng = random.Random(number)
    own: list[int] = []
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as client:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            topic = rng.choice(TOPICS)
            if rng.random() < write_share or not own:
                if rng.random() < 0.5:
                    method, url = "POST", "/contacts"
                    body: dict[str, object] | None = {
                        "name": f"Client {number} person {n}",
                        "pain_points": [f"Looking for help with {topic} ({number}-{n})"],
                    }
                else:
                    method, url = "POST", "/articles"
                    body = {
                        "title": f"Notes on {topic} {number}-{n}",
                        "url": f"https://example.org/{number}/{n}",
                        "text": f"What we learned about {topic}, in detail. " * 5,
                    }
            else:
                body = None
                method, url = (
                    "GET",
                    rng.choice(
                        [
                            "/contacts?limit=20",
                            f"/contacts/{rng.choice(own)}",
                            f"/contacts/{rng.choice(own)}/suggestions",
                            "/articles?q=survey&limit=20",
                        ]
                    ),
                )
            started = time.monotonic()
            try:
                response = client.request(method, url, json=body)
            except httpx.HTTPError as error:
                with result.lock:
                    result.errors.append(f"{method} {url}: {error!r}")
                continue
            elapsed = time.monotonic() - started
            with result.lock:
                result.requests += 1
                result.latencies.append(elapsed)
                if response.status_code >= 300:
                    result.errors.append(f"{method} {url}: {response.status_code} {response.text}")
                elif method == "POST" and url == "/contacts":
                    result.contacts.append(response.json()["id"])
                    own.append(response.json()["id"])
                elif method == "POST":
                    result.articles.append(response.json()["id"])


def run_load(
    base_url: str, key: str, *, clients: int = 32, seconds: float = 30, write_share: float = 0.3
) -> LoadResult:
    """``clients`` threads against ``base_url`` for ``seconds``; then every write is checked."""
    if urlsplit(base_url).hostname not in LOOPBACK:
        raise ValueError(f"{base_url}: the load test runs against this machine only")
    result = LoadResult()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(base_url, key, n, started + seconds, write_share, result),
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as client:
        for kind, ids in (("contacts", result.contacts), ("articles", result.articles)):
            for record_id in ids:
                if client.get(f"/{kind}/{record_id}").status_code != 200:
                    result.lost.append(f"{kind}/{record_id}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True, help="an API key of the server")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--write-share", type=float, default=0.3)
    args = parser.parse_args()
    result = run_load(
        args.base_url,
        args.key,
        clients=args.clients,
        seconds=args.seconds,
        write_share=args.write_share,
    )
    print(result.summary())
    for error in result.errors[:10]:
        print("error:", error, file=sys.stderr)
    sys.exit(1 if result.errors or result.lost else 0)


if __name__ == "__main__":
    main()
