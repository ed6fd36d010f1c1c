r"""Do sent and dismissed suggestions teach the engine anything? A simulated user, on a graded set.

Every pain point of the set is one contact. For each, the engine suggests a first page of
``--page`` articles (``SuggestionEngine.suggest``, as ``GET /contacts/{id}/suggestions`` does,
stored as suggestions). The simulated user reads the grades: a grade-0 article is dismissed as
``not_relevant``, a graded one is sent. Then the engine suggests the second page, and the second
page is scored: nDCG@page against the grades (the first page's articles left out of the ideal,
since they cannot come again) and the share of grade-0 articles on it.

Arms on the same workspace, each rolled back after it, by the engine's feedback weights
(``EngineConfig.sent_pull``, ``dismissed_push``): no feedback (0, 0: what the second page would be
if sending and dismissing only removed the article), dismissals alone, sent articles alone, and
both as configured; ``--grid`` adds more pairs. The figures go to ``docs/benchmarks.md``.

    .venv/bin/python scripts/bench_dismissals.py [--split test] [--grid 0.1,0.05 0.3,0.1] \
        [--cache-dir DIR] [--json]
"""

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import Settings
from app.evaluation import LoadedSet, load_dataset, loaded_set, score_query
from app.models import Contact, DismissReason
from app.suggestions.engine import SuggestionEngine
from app.suggestions.records import StoredRecords
from app.suggestions.service import dismiss, mark_sent, store_candidate

HR_SET = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hr_eval"


@dataclass
class Arm:
    name: str
    ndcg: float
    irrelevant_share: float  # of the second page's articles, grade 0
    first_page_dismissed: int
    contacts: int


def run_arm(name: str, loaded: LoadedSet, engine: SuggestionEngine, page: int) -> Arm:
    """The simulated user over every contact, in a savepoint rolled back at the end."""
    session = loaded.session
    today = date.today()
    savepoint = session.begin_nested()
    ndcgs: list[float] = []
    irrelevant = shown = dismissed = 0
    try:
        for pain_point, query_id in loaded.pain_points:
            judged = loaded.dataset.qrels.get(query_id, {})
            contact = session.get(Contact, pain_point.contact_id)
            assert contact is not None
            first = engine.suggest(
                records=StoredRecords(session), contact=contact, today=today, due=False, limit=page
            )
            first_docs = set()
            for candidate in first:
                stored = store_candidate(session, candidate, today)
                session.flush()
                if candidate.article is None:
                    continue
                document = loaded.document_of[candidate.article.id]
                first_docs.add(document)
                if judged.get(document, 0) <= 0:
                    dismiss(
                        session=session,
                        suggestion=stored,
                        reason=DismissReason.not_relevant,
                        until=None,
                        today=today,
                        bad_timing_days=0,
                    )
                    dismissed += 1
                else:
                    mark_sent(session=session, suggestion=stored, today=today)
            session.flush()
            second = engine.suggest(
                records=StoredRecords(session), contact=contact, today=today, due=False, limit=page
            )
            documents = [loaded.document_of[c.article.id] for c in second if c.article is not None]
            remaining = {d: g for d, g in judged.items() if d not in first_docs}
            if any(g > 0 for g in remaining.values()):
                ndcgs.append(score_query(documents, remaining, cutoff=page).ndcg)
            irrelevant += sum(1 for d in documents if judged.get(d, 0) <= 0)
            shown += len(documents)
    finally:
        savepoint.rollback()
    return Arm(
        name=name,
        ndcg=sum(ndcgs) / max(len(ndcgs), 1),
        irrelevant_share=irrelevant / max(shown, 1),
        first_page_dismissed=dismissed,
        contacts=len(loaded.pain_points),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=HR_SET, help="a graded BEIR-layout set")
    parser.add_argument("--split", default="test")
    parser.add_argument("--page", type=int, default=5, help="articles per page")
    parser.add_argument(
        "--grid", nargs="*", default=[], help="more (sent pull, dismissed push) pairs: 0.1,0.05"
    )
    parser.add_argument("--cache-dir", type=Path, help="the embedding cache (default: none)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    dataset = load_dataset(args.dataset, args.split)
    settings = Settings(database_url=None, qdrant_url=None)
    arms: list[Arm] = []
    with loaded_set(dataset, settings, cache_dir=args.cache_dir) as loaded:
        pull, push = loaded.config.sent_pull, loaded.config.dismissed_push
        weights = [(0.0, 0.0), (0.0, push), (pull, 0.0), (pull, push)]
        weights += [tuple(float(x) for x in pair.split(",")) for pair in args.grid]  # type: ignore[misc]
        for sent_pull, dismissed_push in weights:
            label = f"sent pull {sent_pull:g}, dismissed push {dismissed_push:g}"
            if (sent_pull, dismissed_push) == (pull, push):
                label += " (configured)"
            engine = loaded.engine(sent_pull=sent_pull, dismissed_push=dismissed_push)
            arms.append(run_arm(label, loaded, engine, args.page))
    print(f"{dataset.name} {args.split}: {len(dataset.queries)} contacts, pages of {args.page}")
    for arm in arms:
        print(
            f"  {arm.name:<46} second page nDCG@{args.page} {arm.ndcg:.4f}, grade 0 on it "
            f"{arm.irrelevant_share:.1%} (first pages: {arm.first_page_dismissed} dismissed)"
        )
    if args.json:
        print(json.dumps([arm.__dict__ for arm in arms]))


if __name__ == "__main__":
    main()
