r"""Benchmark of the packaged embedding model (all-MiniLM-L6-v2) on the CPU, on both backends:
torch (sentence-transformers, the reference) and ONNX (onnxruntime, the default).

Measures, on ``--threads`` torch threads (default 2; onnxruntime uses one thread per core):

* cold start: the time to load the model in a fresh subprocess (imports included; the OS page
  cache may still hold the weight file after the first run), and the resident memory after
  loading (VmRSS) and at its peak (VmHWM), per backend;
* throughput in texts/second for short pain-point-like texts (~12 words) and ~200-word passages at
  each batch size (default 8, 32, 64), the median of ``--repeats`` runs, the backends taking turns
  so that both see the same machine;
* agreement: the cosine between the two backends' vectors, and the overlap of the top-10
  passages each ranks for the short texts;
* the embedding cache: the same texts through ``CachedEmbedder`` + ``EmbeddingCache`` a first time
  (model + cache writes) and a second time (cache hits only), and the latency of one single-text
  cache hit (what the engine pays per pain point in production).

Texts are synthetic, varied and deterministic (a seeded generator over an HR vocabulary). Nothing
is downloaded: the model is the packaged one (``embeddings.factory.load_model()``).

    .venv/bin/python scripts/bench_embeddings.py                  # full run, a few minutes
    .venv/bin/python scripts/bench_embeddings.py --short 256 --passages 64 --repeats 1 \
        --cold-runs 1 --cache-texts 100 --cache-passages 20        # quick check
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from scripts.benchkit.measure import mib, proc_status_kib  # noqa: E402

# -- synthetic HR text ---------------------------------------------------------------------------

HR_WORDS = """
hiring recruiter recruiting candidate candidates interview interviews onboarding offboarding
retention attrition turnover engagement survey surveys pulse feedback performance review reviews
calibration promotion promotions compensation salary salaries bonus equity benefits healthcare
pension payroll overtime contractor contractors freelancers headcount budget forecast planning
workforce talent pipeline sourcing referral referrals employer brand culture values mission
leadership manager managers coaching mentoring training learning development upskilling reskilling
career ladder framework competency competencies skills gap succession bench strength diversity
equity inclusion belonging accessibility accommodation wellbeing burnout stress mental health leave
parental policy policies handbook compliance audit labor law regulation union works council
grievance investigation harassment discipline termination layoff restructuring reorganization
merger acquisition integration change management communication town hall remote hybrid office
return flexible schedule four-day week timesheet attendance absenteeism productivity goals okrs
objectives metrics dashboard analytics people data hris ats applicant tracking system vendor
vendors rfp contract pricing implementation rollout migration integration payroll provider
benefits broker open enrollment relocation visa immigration global mobility expatriate
contractor classification job architecture leveling pay bands pay transparency equity analysis
gender pay gap exit interviews stay interviews recognition rewards incentive sales commission
frontline warehouse retail nurses engineers developers graduates interns apprenticeship campus
early careers executive search board chro hr business partner generalist specialist shared
services service desk ticketing employee experience journey lifecycle moments that matter
""".split()  # noqa: SIM905 (a word list reads better as prose)

FILLERS = """
the our a for with and of to in on about across our their new better faster fair clear simple
""".split()  # noqa: SIM905 (a word list reads better as prose)

OPENERS = (
    "Struggling with",
    "Need help with",
    "Looking for advice on",
    "How do we fix",
    "Trying to improve",
    "Worried about",
    "Can't get buy-in for",
    "Rebuilding",
    "Choosing a partner for",
    "Scaling",
)


class TextGenerator:
    """Deterministic, varied English-looking HR texts from a seeded random generator."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def _words(self, n: int) -> list[str]:
        out: list[str] = []
        for _ in range(n):
            pool = FILLERS if self._rng.random() < 0.3 else HR_WORDS
            out.append(str(pool[int(self._rng.integers(len(pool)))]))
        return out

    def short(self) -> str:
        """A pain-point-like text of about 12 words."""
        opener = OPENERS[int(self._rng.integers(len(OPENERS)))]
        n = int(self._rng.integers(8, 13)) - len(opener.split()) + 3
        return f"{opener} {' '.join(self._words(max(n, 4)))}"

    def passage(self, words: int = 200) -> str:
        """About ``words`` words in sentences of 8 to 20 words."""
        sentences: list[str] = []
        total = 0
        while total < words:
            n = min(int(self._rng.integers(8, 21)), words - total)
            body = self._words(max(n, 1))
            sentences.append(" ".join(body).capitalize() + ".")
            total += len(body)
        return " ".join(sentences)


# -- measuring helpers ---------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


_COLD_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
backend = sys.argv[2]
if backend == "torch":
    import torch
    torch.set_num_threads(int(sys.argv[1]))
from embeddings.factory import load_model
model = load_model(backend=backend)
t1 = time.perf_counter()
model.embed_queries(["Struggling with onboarding remote engineers"])
t2 = time.perf_counter()
def status():
    out = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out
after_load = status()
print(json.dumps({"load_model": t1 - t0, "first_vector": t2 - t1, "torch": "torch" in sys.modules,
                  "rss_kib": after_load["VmRSS"], "hwm_kib": after_load["VmHWM"]}))
"""

BACKENDS = ("torch", "onnx")


def cold_start(threads: int, backend: str) -> dict[str, Any]:
    """Start a fresh interpreter, load the model on ``backend``, embed one text; time each step."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _COLD_CHILD, str(threads), backend],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    wall = time.perf_counter() - start
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall"] = wall
    result["backend"] = backend
    return result


def cpu_reference() -> float:
    """GFLOP/s of a float32 matmul the size of one MiniLM feed-forward layer on a batch of 32
    passages (8,192 x 384 @ 384 x 1,536), median of 15: the machine's speed right now, so that
    throughputs measured on a shared machine can be compared as ratios."""
    import torch

    a = torch.randn(8192, 384)
    b = torch.randn(384, 1536)
    a @ b
    seconds = [timed(lambda: a @ b) for _ in range(15)]
    return 2 * 8192 * 384 * 1536 / statistics.median(seconds) / 1e9


def throughput(
    embed: Callable[[Sequence[str]], Any], texts: Sequence[str], batch_size: int, repeats: int
) -> tuple[float, list[float]]:
    """Median texts/second over ``repeats`` full passes (one warm-up batch first)."""
    embed(texts[:batch_size])
    seconds = [timed(lambda: embed(texts)) for _ in range(repeats)]
    return len(texts) / statistics.median(seconds), seconds


# -- main ----------------------------------------------------------------------------------------


def make_embedder(backend: str, batch_size: int) -> Any:
    """The packaged model on ``backend`` with ``batch_size`` (the ONNX graph from the cache)."""
    from embeddings.factory import default_onnx_dir, packaged_model_path
    from embeddings.onnx_backend import OnnxEmbedder, graph_path, read_model_spec

    if backend == "torch":
        from embeddings.torch_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(packaged_model_path(), batch_size=batch_size)
    spec = read_model_spec(packaged_model_path())
    return OnnxEmbedder(spec, graph_path(spec, default_onnx_dir()), batch_size=batch_size)


def quantised_copy(model: Any, target: Path) -> Any:
    """The ONNX model with its weights dynamically quantised to int8 (onnxruntime's tool)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from embeddings.onnx_backend import OnnxEmbedder

    quantize_dynamic(str(model.graph), str(target), weight_type=QuantType.QInt8)
    return OnnxEmbedder(model._spec, target, batch_size=32)


def agreement(
    torch_model: Any, onnx_model: Any, queries: Sequence[str], documents: Sequence[str]
) -> dict[str, float]:
    """How close the ONNX vectors are to torch's, and whether the rankings they give differ."""
    texts = [*queries, *documents]
    cosines = np.sum(torch_model.embed_documents(texts) * onnx_model.embed_documents(texts), 1)
    tops = []
    for model in (torch_model, onnx_model):
        scores = model.embed_queries(queries) @ model.embed_documents(documents).T
        tops.append(np.argsort(-scores, axis=1, kind="stable")[:, :10])
    overlap = [len(set(a) & set(b)) / 10 for a, b in zip(tops[0], tops[1], strict=True)]
    return {
        "texts": len(texts),
        "mean_cosine": float(np.mean(cosines)),
        "min_cosine": float(np.min(cosines)),
        "top10_overlap": float(np.mean(overlap)),
        "top10_identical_share": float(
            np.mean([np.array_equal(a, b) for a, b in zip(tops[0], tops[1], strict=True)])
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="examples:\n" + __doc__.rstrip().split("\n\n")[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--short", type=int, default=2048, help="short texts per pass")
    parser.add_argument("--passages", type=int, default=384, help="~200-word passages per pass")
    parser.add_argument("--passage-words", type=int, default=200, help="words per passage")
    parser.add_argument(
        "--batch-sizes", default="8,32,64", help="comma-separated batch sizes (default 8,32,64)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per batch size")
    parser.add_argument(
        "--cold-runs", type=int, default=3, help="fresh subprocesses to time, per backend"
    )
    parser.add_argument(
        "--cache-texts", type=int, default=1000, help="short texts for the cache test"
    )
    parser.add_argument(
        "--cache-passages", type=int, default=200, help="passages for the cache test"
    )
    parser.add_argument("--seed", type=int, default=20261121, help="for every random draw")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    results: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "loadavg_start": os.getloadavg(),
    }

    # 0. Make sure the ONNX graph exists, so that no cold start below pays for the export.
    from embeddings.factory import load_model

    results["export_s"] = timed(lambda: load_model(backend="onnx"))

    # 1. Cold start, each in a fresh interpreter, the backends taking turns.
    results["cold_start"] = [
        cold_start(args.threads, backend) for _ in range(args.cold_runs) for backend in BACKENDS
    ]

    import torch

    torch.set_num_threads(args.threads)
    from embeddings.cache import CachedEmbedder, EmbeddingCache

    results["cpu_reference_gflops_start"] = cpu_reference()

    # 2. Throughput per text length, batch size and backend (the backends taking turns).
    gen = TextGenerator(args.seed)
    shorts = [gen.short() for _ in range(args.short)]
    passages = [gen.passage(args.passage_words) for _ in range(args.passages)]
    torch_model = make_embedder("torch", 32)
    tokenizer = torch_model.sentence_transformer.tokenizer  # only to report token lengths
    results["median_tokens"] = {
        name: statistics.median(len(tokenizer(t, verbose=False)["input_ids"]) for t in texts[:200])
        for name, texts in (("short", shorts), ("passage", passages))
    }
    rates: dict[str, dict[str, dict[int, float]]] = {
        b: {"short": {}, "passage": {}} for b in BACKENDS
    }
    for batch_size in batch_sizes:
        for name, texts in (("short", shorts), ("passage", passages)):
            for backend in BACKENDS:
                embedder = make_embedder(backend, batch_size)
                rate, seconds = throughput(
                    embedder.embed_documents, texts, batch_size, args.repeats
                )
                rates[backend][name][batch_size] = rate
                print(
                    f"{backend:5s} {name:7s} batch {batch_size:3d}: {rate:8.1f} texts/s  "
                    f"(runs: {', '.join(f'{s:.2f}s' for s in seconds)})",
                    file=sys.stderr,
                )
                del embedder
    results["throughput"] = rates
    results["cpu_reference_gflops_end"] = cpu_reference()
    results["hwm_after_throughput_kib"] = proc_status_kib().get("VmHWM")

    # 3. Agreement: the vectors and the top-10 rankings of the short texts over the passages,
    # for the shipped fp32 graph and for an int8-quantised copy of it (measured, not shipped).
    onnx_model = make_embedder("onnx", 32)
    results["agreement"] = agreement(torch_model, onnx_model, shorts[:512], passages)
    with tempfile.TemporaryDirectory() as tmp:
        int8_model = quantised_copy(onnx_model, Path(tmp) / "model-int8.onnx")
        results["int8"] = {
            **agreement(torch_model, int8_model, shorts[:512], passages),
            **{
                f"{name}_per_s": throughput(int8_model.embed_documents, texts, 32, args.repeats)[0]
                for name, texts in (("short", shorts), ("passage", passages))
            },
        }

    # 4. The embedding cache (in front of the default backend): first pass computes and stores,
    # second pass only looks up.
    model = load_model()
    cache_rows: list[dict[str, Any]] = []
    cache_gen = TextGenerator(args.seed + 1)  # texts the model has not seen in this process
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "embedding_cache.sqlite3")
        cached = CachedEmbedder(model, cache)
        for name, texts, embed in (
            ("short", [cache_gen.short() for _ in range(args.cache_texts)], cached.embed_queries),
            (
                "passage",
                [cache_gen.passage(args.passage_words) for _ in range(args.cache_passages)],
                cached.embed_documents,
            ),
        ):
            computed_before = cached.computed
            first = timed(lambda embed=embed, texts=texts: embed(texts))
            computed_first = cached.computed - computed_before
            second = timed(lambda embed=embed, texts=texts: embed(texts))
            computed_second = cached.computed - computed_before - computed_first
            assert computed_second == 0, "the second pass must be served from the cache"
            cache_rows.append(
                {
                    "kind": name,
                    "n": len(texts),
                    "first_s": first,
                    "second_s": second,
                    "ratio": first / second,
                    "computed_first": computed_first,
                    "computed_second": computed_second,
                }
            )
        # One pain point at a time, as the engine asks for it: the per-search cache-hit cost.
        singles = [cache_gen.short() for _ in range(200)]
        cached.embed_queries(singles)
        single_hits = []
        for text in singles:
            start = time.perf_counter()
            cached.embed_queries([text])
            single_hits.append(time.perf_counter() - start)
        uncached: dict[str, list[float]] = {b: [] for b in BACKENDS}
        for text in singles[:50]:
            for backend, embedder in (("torch", torch_model), ("onnx", onnx_model)):
                start = time.perf_counter()
                embedder.embed_queries([text])
                uncached[backend].append(time.perf_counter() - start)
        cache.close()
    results["cache"] = cache_rows
    results["single_text"] = {
        "cache_hit_p50_ms": 1000 * statistics.median(single_hits),
        "cache_hit_p99_ms": 1000 * float(np.percentile(single_hits, 99)),
        **{f"{b}_p50_ms": 1000 * statistics.median(v) for b, v in uncached.items()},
    }

    results["loadavg_end"] = os.getloadavg()
    report(results, batch_sizes)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def report(results: dict[str, Any], batch_sizes: list[int]) -> None:
    print(f"\nONNX graph ready (exported if missing) in {results['export_s']:.2f} s.")
    cold = results["cold_start"]
    print("\n## Cold start (fresh subprocess each run)\n")
    print(
        "| backend | run | load_model() s | first vector s | process wall s | torch imported |"
        " RSS MiB (peak) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for backend in BACKENDS:
        runs = [c for c in cold if c["backend"] == backend]
        for i, c in enumerate(runs, 1):
            print(
                f"| {backend} | {i} | {c['load_model']:.2f} | {c['first_vector']:.3f}"
                f" | {c['process_wall']:.2f} | {c['torch']} |"
                f" {mib(c['rss_kib'])} ({mib(c['hwm_kib'])}) |"
            )
        if runs:
            med = {
                k: statistics.median(c[k] for c in runs)
                for k in ("load_model", "first_vector", "process_wall", "rss_kib", "hwm_kib")
            }
            print(
                f"| **{backend}** | **median** | **{med['load_model']:.2f}** |"
                f" **{med['first_vector']:.3f}** | **{med['process_wall']:.2f}** | |"
                f" **{mib(int(med['rss_kib']))} ({mib(int(med['hwm_kib']))})** |"
            )

    print("\n## Throughput (texts/second, median of the runs)\n")
    tokens = results["median_tokens"]
    print(
        "| texts | backend | median tokens | "
        + " | ".join(f"batch {b}" for b in batch_sizes)
        + " | best |"
    )
    print("| --- | --- | --- | " + " | ".join("---" for _ in batch_sizes) + " | --- |")
    best_rates: dict[str, dict[str, float]] = {}
    for name in ("short", "passage"):
        label = "short (~12 words)" if name == "short" else "passage (~200 words)"
        for backend in BACKENDS:
            rates = results["throughput"][backend][name]
            best = max(rates, key=lambda b: rates[b])
            best_rates.setdefault(name, {})[backend] = rates[best]
            cells = " | ".join(f"{rates[b]:.1f}" for b in batch_sizes)
            print(
                f"| {label} | {backend} | {tokens[name]:.0f} | {cells} |"
                f" {rates[best]:.1f} (batch {best}) |"
            )
    for name, best in best_rates.items():
        print(f"\nBest {name}: onnx / torch = {best['onnx'] / best['torch']:.2f}x")
    print(
        f"\nCPU reference (float32 matmul 8192x384 @ 384x1536 on the same threads):"
        f" {results['cpu_reference_gflops_start']:.0f} GFLOP/s before the throughput runs,"
        f" {results['cpu_reference_gflops_end']:.0f} GFLOP/s after."
        f" Peak RSS of this process after the throughput runs (both backends loaded):"
        f" {mib(results['hwm_after_throughput_kib'])} MiB."
    )

    agree = results["agreement"]
    print("\n## ONNX against torch\n")
    print(
        f"{agree['texts']} texts: mean cosine {agree['mean_cosine']:.7f}, lowest"
        f" {agree['min_cosine']:.7f}; top-10 passages for each short text: overlap"
        f" {agree['top10_overlap']:.4f}, identical lists {agree['top10_identical_share']:.4f}."
    )
    int8 = results["int8"]
    print(
        f"\nint8-quantised ONNX (not shipped): mean cosine {int8['mean_cosine']:.5f}, lowest"
        f" {int8['min_cosine']:.5f}; top-10 overlap {int8['top10_overlap']:.4f}, identical"
        f" lists {int8['top10_identical_share']:.4f}; batch 32: {int8['short_per_s']:.1f} short"
        f" and {int8['passage_per_s']:.1f} passages/s."
    )

    print("\n## Embedding cache (CachedEmbedder + EmbeddingCache, SQLite, default backend)\n")
    print("| texts | n | first pass s | second pass s | first / second | model calls 1st/2nd |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in results["cache"]:
        print(
            f"| {row['kind']} | {row['n']} | {row['first_s']:.3f} | {row['second_s']:.4f} |"
            f" {row['ratio']:.0f}x | {row['computed_first']}/{row['computed_second']} |"
        )
    single = results["single_text"]
    print(
        f"\nOne text per call (as the engine asks): cache hit p50 {single['cache_hit_p50_ms']:.3f}"
        f" ms, p99 {single['cache_hit_p99_ms']:.3f} ms; model p50 torch"
        f" {single['torch_p50_ms']:.1f} ms, onnx {single['onnx_p50_ms']:.1f} ms."
    )
    print(f"\nLoad average at start {results['loadavg_start']}, at end {results['loadavg_end']}.")


if __name__ == "__main__":
    main()
