"""Measuring helpers shared by the benchmarks: memory from ``/proc``, percentiles, timers."""

import gc
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

UPSERT_BATCH = 256  # what app.indexing writes per upsert call


def proc_status_kib(keys: Sequence[str] = ("VmRSS", "VmHWM")) -> dict[str, int]:
    """Figures of this process in KiB from /proc/self/status: VmRSS and VmHWM (peak RSS) by
    default; RssAnon (heap) and RssFile (mapped files' pages) when asked."""
    out: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in keys:
                out[key] = int(value.split()[0])
    except OSError:  # not Linux: fall back to getrusage (peak only, KiB on Linux)
        out["VmHWM"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def mib(kib: float | None) -> str:
    """KiB as whole MiB, for a report ("n/a" when unknown)."""
    return "n/a" if kib is None else f"{kib / 1024:.0f}"


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


def summary(values: Sequence[float], cpu: Sequence[float] | None = None) -> dict[str, float]:
    """Percentiles of wall-clock seconds; ``cpu``: CPU seconds of the calling thread."""
    out = {
        "n": len(values),
        "p50_ms": 1000 * statistics.median(values),
        "p90_ms": 1000 * pct(values, 90),
        "p99_ms": 1000 * pct(values, 99),
        "max_ms": 1000 * max(values),
        "mean_ms": 1000 * statistics.fmean(values),
    }
    if cpu:
        out["cpu_p50_ms"] = 1000 * statistics.median(cpu)
    return out


def dir_size_mib(path: Path, *, allocated: bool = True) -> float:
    """The files' blocks on disk (Qdrant Edge makes 32 MiB sparse files: their apparent size,
    ``allocated=False``, says little about what they hold)."""
    files = [f.stat() for f in path.rglob("*") if f.is_file()]
    return sum(f.st_blocks * 512 if allocated else f.st_size for f in files) / 2**20


def upsert_all(index: Any, points: Sequence[Any]) -> float:
    start = time.perf_counter()
    for i in range(0, len(points), UPSERT_BATCH):
        index.upsert(points[i : i + UPSERT_BATCH])
    return time.perf_counter() - start


class Stopwatch:
    """Sums the time spent in wrapped callables, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = name(*args, **kwargs) if callable(name) else name
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1

        return wrapper


@contextmanager
def gc_pauses() -> Iterator[list[float]]:
    """Durations of the garbage collector's full (generation 2) runs inside the block."""
    pauses: list[float] = []
    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    gc.callbacks.append(callback)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(callback)
