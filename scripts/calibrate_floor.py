r"""The relevance floor, calibrated on graded (pain point, article) pairs.

The floor says when a match is too weak to send: below it a contact gets a check-in instead of an
article. Its scale is that of the hybrid score, so every change to the score needs a new floor.
This script loads a graded set in BEIR layout (default: the HR evaluation set,
``tests/fixtures/hr_eval``; grades 0-2, every pair not listed is a 0) into a temporary workspace
(real model, SQLite, Qdrant Edge), scores every (pain point, article) pair with
``SuggestionEngine.rank_articles`` (each article by its best passage, as ``suggest`` scores it), and
on the tuning split picks the floor between the highest one that lets through at least 95 % of the
grade-2 pairs and the lowest that lets through at most 5 % of the grade-0 pairs (``choose_floor``).
It then reports, on the tuning and the test split, the share of grade-2, grade-1 and
grade-0 pairs that clear it, and how many pain points with a grade-2 article would get a check-in
instead (their best grade-2 article under the floor).

    .venv/bin/python scripts/calibrate_floor.py [--keyword-weight 0.4] [--cache-dir DIR] [--json]
"""

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import Settings
from app.evaluation import load_dataset, loaded_set, ranked_documents

HR_SET = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hr_eval"
KEEP_GRADE_2 = 0.95  # the share of grade-2 pairs the floor must let through, at least
PASS_GRADE_0 = 0.05  # the share of grade-0 pairs it may let through, at most


@dataclass
class Clearance:
    """How a floor sorts one split's pairs."""

    split: str
    pairs: dict[int, int]  # grade -> pairs
    cleared: dict[int, float]  # grade -> share of those pairs at or above the floor
    pain_points_with_a_grade_2: int
    check_in_instead: int  # of those: best grade-2 article under the floor


def clearance(
    split: str, scores: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]], floor: float
) -> Clearance:
    by_grade: dict[int, list[float]] = {0: [], 1: [], 2: []}
    missed = with_grade_2 = 0
    for query, documents in scores.items():
        judged = qrels.get(query, {})
        for document, score in documents.items():
            by_grade[min(max(judged.get(document, 0), 0), 2)].append(score)
        best_2 = [s for d, s in documents.items() if judged.get(d, 0) >= 2]
        if best_2:
            with_grade_2 += 1
            missed += max(best_2) < floor
    return Clearance(
        split=split,
        pairs={g: len(v) for g, v in by_grade.items()},
        cleared={
            g: float(np.mean(np.array(v) >= floor)) if v else 0.0 for g, v in by_grade.items()
        },
        pain_points_with_a_grade_2=with_grade_2,
        check_in_instead=missed,
    )


def choose_floor(
    scores: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]
) -> tuple[float, float, float]:
    """The floor, and the two bounds it lies between: the highest floor that keeps
    ``KEEP_GRADE_2`` of the grade-2 pairs, and the lowest that lets through at most
    ``PASS_GRADE_0`` of the grade-0 pairs. When the first is the higher, any floor between them
    meets both and the floor is their midpoint; when it is not, no floor meets both and the floor
    keeps the grade-2 pairs (a missed gift costs more than one weak one the user dismisses)."""
    grade_2 = np.sort(
        [s for q, docs in scores.items() for d, s in docs.items() if qrels[q].get(d, 0) >= 2]
    )
    grade_0 = np.sort(
        [s for q, docs in scores.items() for d, s in docs.items() if qrels[q].get(d, 0) <= 0]
    )
    if not grade_2.size or not grade_0.size:
        raise SystemExit("The tuning split needs grade-2 and grade-0 pairs.")
    keeps_grade_2 = float(grade_2[int(np.floor((1 - KEEP_GRADE_2) * grade_2.size))])
    keeps_out_grade_0 = float(
        grade_0[min(int(np.ceil((1 - PASS_GRADE_0) * grade_0.size)), grade_0.size - 1)]
    )
    if keeps_grade_2 >= keeps_out_grade_0:
        return (keeps_grade_2 + keeps_out_grade_0) / 2, keeps_grade_2, keeps_out_grade_0
    return keeps_grade_2, keeps_grade_2, keeps_out_grade_0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=HR_SET, help="a graded BEIR-layout set")
    parser.add_argument("--tune-split", default="tune")
    parser.add_argument("--test-split", default="test")
    parser.add_argument("--keyword-weight", type=float, help="default: the engine's")
    parser.add_argument("--cache-dir", type=Path, help="the embedding cache (default: none)")
    parser.add_argument("--json", action="store_true", help="one JSON line at the end")
    args = parser.parse_args()

    everything = load_dataset(args.dataset, f"{args.tune_split},{args.test_split}")
    splits = {
        name: set(load_dataset(args.dataset, name).queries)
        for name in (args.tune_split, args.test_split)
    }
    settings = Settings(database_url=None, qdrant_url=None)
    with loaded_set(everything, settings, cache_dir=args.cache_dir) as loaded:
        weight = (
            loaded.config.keyword_weight if args.keyword_weight is None else args.keyword_weight
        )
        engine = loaded.engine(keyword_weight=weight)
        ranked = ranked_documents(loaded, engine, limit=len(everything.corpus))
    scores = {query: dict(hits) for query, hits in ranked.items()}
    tune = {q: s for q, s in scores.items() if q in splits[args.tune_split]}
    floor, keeps_grade_2, keeps_out_grade_0 = choose_floor(tune, everything.qrels)
    reports = [
        clearance(name, {q: s for q, s in scores.items() if q in ids}, everything.qrels, floor)
        for name, ids in splits.items()
    ]
    print(
        f"{everything.name}: keyword weight {weight}; floor {floor:.4f} (from {args.tune_split}: "
        f"at most {keeps_grade_2:.4f} keeps {KEEP_GRADE_2:.0%} of grade 2, at least "
        f"{keeps_out_grade_0:.4f} lets through at most {PASS_GRADE_0:.0%} of grade 0)"
    )
    for report in reports:
        shares = ", ".join(f"grade {g}: {report.cleared[g]:.1%}" for g in (2, 1, 0))
        print(
            f"  {report.split}: cleared {shares} (pairs {report.pairs}); a check-in instead of a "
            f"grade-2 article for {report.check_in_instead} of "
            f"{report.pain_points_with_a_grade_2} pain points"
        )
    if args.json:
        print(
            json.dumps(
                {
                    "dataset": everything.name,
                    "keyword_weight": weight,
                    "floor": round(floor, 4),
                    "splits": [asdict(r) for r in reports],
                }
            )
        )


if __name__ == "__main__":
    main()
