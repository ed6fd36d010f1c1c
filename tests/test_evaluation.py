"""``givefirst eval`` on a tiny BEIR-layout dataset made here: the real model, real SQLite, the
real index; the figures checked against values worked out by hand."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.evaluation import load_dataset, mean_scores, score_query, without_self

# Four documents on four unrelated subjects; each query is about one of them.
CORPUS = [
    {"_id": "bees", "title": "Honey bees", "text": "How honey bee colonies pollinate orchards."},
    {"_id": "tax", "title": "", "text": "Filing a small business tax return: deductions."},
    {"_id": "knee", "title": "Knee surgery", "text": "Recovery after knee ligament surgery."},
    # Also a query: the text of "q-self" itself. Without the self-hit rule it would rank first.
    {
        "_id": "q-self",
        "title": "",
        "text": "What should I plant so that bees pollinate my orchard?",
    },
]
QUERIES = [
    {"_id": "q-bees", "text": "Do honey bee colonies pollinate orchards?"},
    {"_id": "q-tax", "text": "Which deductions on a small business tax return?"},
    {"_id": "q-self", "text": "What should I plant so that bees pollinate my orchard?"},
    {"_id": "q-unjudged", "text": "Knee ligament recovery"},  # no qrels: not scored
]
# q-tax: one judged document is missing from the corpus (as in ArguAna), so its best nDCG and
# recall are below 1. q-self: the relevant document is bees, not itself.
QRELS = [("q-bees", "bees", 1), ("q-tax", "tax", 2), ("q-tax", "gone", 1), ("q-self", "bees", 1)]


def write_dataset(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    for name, rows in (("corpus", CORPUS), ("queries", QUERIES)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    lines = ["query-id\tcorpus-id\tscore", *(f"{q}\t{d}\t{g}" for q, d, g in QRELS)]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return folder


def test_metrics_by_hand() -> None:
    judged = {"b": 2, "c": 1, "z": 1}  # z is never retrieved
    scores = score_query(["a", "b", "c"], judged)
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    ideal = 2 + 1 / math.log2(3) + 1 / math.log2(4)
    assert scores.ndcg == pytest.approx(dcg / ideal)
    assert scores.recall == pytest.approx(2 / 3)
    assert scores.mrr == pytest.approx(1 / 2)
    assert scores.best_first == 0.0  # "a" is first, and "b" (a 2) is the best there is
    assert score_query(["b", "c"], judged).best_first == 1.0
    assert score_query(["c", "b"], judged).best_first == 0.0
    # Only the top 10 count; grade 0 is not relevant.
    late = score_query([f"x{n}" for n in range(10)] + ["b"], {"b": 1, "x3": 0})
    assert (late.ndcg, late.recall, late.mrr) == (0.0, 0.0, 0.0)
    assert without_self("q", ["d1", "q", "d2"], cutoff=2) == ["d1", "d2"]
    mean = mean_scores({"q1": ["b"]}, {"q1": {"b": 1}, "q2": {"b": 1}})  # q2 ran nothing
    assert (mean.ndcg, mean.recall, mean.mrr, mean.best_first) == (0.5, 0.5, 0.5, 0.5)


def test_queries_are_cut_by_the_split_they_came_from(tmp_path: Path) -> None:
    """CounselChat's queries carry their upstream split: train,val is for tuning, test for the
    report, and a query asked in both never counts for the report."""
    folder = write_dataset(tmp_path / "splits")
    rows = [
        {**QUERIES[0], "source_split": ["train"]},
        {**QUERIES[1], "source_split": ["val"]},
        {**QUERIES[2], "source_split": ["test", "train"]},
        {"_id": "q-knee", "text": "Knee ligament recovery", "source_split": ["test"]},
    ]
    (folder / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with (folder / "qrels" / "test.tsv").open("a") as qrels:
        qrels.write("q-knee\tknee\t1\n")
    assert set(load_dataset(folder, "test").queries) == {"q-knee"}
    assert set(load_dataset(folder, "train,val").queries) == {"q-bees", "q-tax"}
    assert set(load_dataset(folder, "train").queries) == {"q-bees"}
    assert load_dataset(folder, "train,val").qrels["q-tax"] == {"tax": 2, "gone": 1}


def test_eval_on_a_tiny_dataset(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "tiny")
    dataset = load_dataset(folder)
    assert set(dataset.queries) == {"q-bees", "q-tax", "q-self"}
    assert dataset.qrels["q-tax"] == {"tax": 2, "gone": 1}

    cache = tmp_path / "cache"
    result = CliRunner().invoke(
        cli, ["eval", "--dataset", str(folder), "--cache-dir", str(cache), "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["documents"] == 4 and figures["queries"] == 3

    # Every ranking puts each query's own subject first (the subjects share no word) and never
    # the query's own document: q-bees and q-self score 1; q-tax finds "tax" first but can never
    # find "gone": nDCG = 2 / (2 + 1/log2(3)), recall 1/2, MRR 1.
    q_tax_ndcg = 2 / (2 + 1 / math.log2(3))
    for name in ("bm25", "dense", "engine"):
        assert figures[name]["ndcg@10"] == pytest.approx((2 + q_tax_ndcg) / 3, abs=1e-4), name
        assert figures[name]["recall@10"] == pytest.approx((1 + 0.5 + 1) / 3, abs=1e-4), name
        assert figures[name]["mrr@10"] == pytest.approx(1.0), name
    assert "engine" in result.output and "nDCG@10" in result.output

    # The cache folder is kept, and a second run over it gives the same figures.
    assert (cache / "embedding_cache.sqlite3").is_file()
    again = CliRunner().invoke(
        cli, ["eval", "--dataset", str(folder), "--cache-dir", str(cache), "--json"]
    )
    assert again.exit_code == 0, again.output
    repeat = json.loads(again.output.strip().splitlines()[-1])
    assert {k: repeat[k] for k in ("bm25", "dense", "engine")} == {
        k: figures[k] for k in ("bm25", "dense", "engine")
    }


def test_the_fusion_study_ranks_as_the_engine_does(tmp_path: Path) -> None:
    """``scripts/fusion_study.py`` re-ranks in memory; on the tiny dataset every variant of it
    must find what ``givefirst eval`` finds (each query's own subject, never the query itself)."""
    folder = write_dataset(tmp_path / "tiny")
    script = Path(__file__).resolve().parent.parent / "scripts" / "fusion_study.py"
    run = subprocess.run(
        [sys.executable, str(script), "--dataset", str(folder), "--cache-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if "w=" in line]
    assert len(rows) == 8, run.stdout
    expected = (2 + 2 / (2 + 1 / math.log2(3))) / 3
    counted = dict(re.findall(r"w=([\d.]+): ([\d.]+)", rows[0]))
    assert set(counted) == {"0", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "1"}
    for weight, ndcg in counted.items():
        assert float(ndcg) == pytest.approx(expected, abs=1e-4), weight

    missing = subprocess.run(
        [sys.executable, str(script), "--dataset", str(tmp_path / "nowhere"), "--cache-dir", "c"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "not a BEIR-layout dataset" in missing.stderr
