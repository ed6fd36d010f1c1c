r"""The relevance floor for a keyword weight, calibrated on the HR fixture (tests/fixtures).

The floor says when a match is too weak to send. Its scale is that of the hybrid score, so a new
keyword weight needs a new floor. This script loads the fixture's 38 articles and 28 contacts into
a temporary workspace (real model, SQLite, Qdrant Edge), scores every (pain point, article)
pair with ``SuggestionEngine.rank_articles`` under the old and the new weight, and prints the new
floor that lets through the same share of pairs as the old floor did, how well the two agree, and
the scores of the fixture's planted matches.

    .venv/bin/python scripts/calibrate_floor.py --keyword-weight 0.6
"""

import argparse
import sys
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import Settings
from app.db import session_scope
from app.models import Article, Contact, PainPoint
from app.runtime import runtime_scope
from app.suggestions.engine import SuggestionEngine
from app.workspaces.service import get_or_create_workspace
from tests.fixtures.hr_network import ARTICLES, CONTACTS, PLANTED_MATCHES

# The fixture's planted (contact, article) pairs, the seed scenario's first.
PLANTED = {"svp-survey": "survey-vendor-selection", **PLANTED_MATCHES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keyword-weight", type=float, required=True)
    parser.add_argument("--old-keyword-weight", type=float, default=0.3)
    parser.add_argument("--old-floor", type=float, default=0.35)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=None, qdrant_url=None)
        with runtime_scope(settings) as runtime:
            assert runtime.suggestion_engine is not None and runtime.indexer is not None
            with session_scope(runtime.session_factory) as session:
                workspace, _ = get_or_create_workspace(session=session, name="hr")
                articles = {
                    a.key: Article(
                        workspace_id=workspace.id,
                        title=a.title,
                        summary=a.summary,
                        text=a.text,
                        tags=list(a.tags),
                        saved_on=date.today(),
                    )
                    for a in ARTICLES
                }
                session.add_all(articles.values())
                pain_points: list[tuple[str, PainPoint]] = []
                for person in CONTACTS:
                    contact = Contact(workspace_id=workspace.id, name=person.name, tier="B")
                    for text in person.pain_points:
                        pain_point = PainPoint(
                            workspace_id=workspace.id, text=text, noted_on=date.today()
                        )
                        contact.pain_points.append(pain_point)
                        pain_points.append((person.key, pain_point))
                    session.add(contact)
                session.flush()
                runtime.indexer.rebuild(session)
                key_of = {a.id: key for key, a in articles.items()}
                engine = runtime.suggestion_engine
                scores = {}
                for weight in (args.old_keyword_weight, args.keyword_weight):
                    ranker = SuggestionEngine(
                        engine.embedder, engine.index, replace(engine.config, keyword_weight=weight)
                    )
                    found = ranker.rank_articles(
                        workspace_id=workspace.id,
                        texts=[p.text for _, p in pain_points],
                        limit=len(ARTICLES),
                    )
                    scores[weight] = {
                        (n, key_of[h.record_id]): h.score
                        for n, hits in enumerate(found)
                        for h in hits
                    }
    old, new = scores[args.old_keyword_weight], scores[args.keyword_weight]
    passed = {pair for pair, s in old.items() if s >= args.old_floor}
    ranked = sorted(new.values(), reverse=True)
    floor = ranked[len(passed) - 1] if passed else ranked[0] + 1e-6
    agree = {pair for pair, s in new.items() if s >= floor} & passed
    print(f"pairs: {len(old)}; above the old floor {args.old_floor}: {len(passed)}")
    print(f"new floor (same share, keyword weight {args.keyword_weight}): {floor:.4f}")
    print(f"pairs above both floors: {len(agree)} of {len(passed)}")
    contact_of = [key for key, _ in pain_points]
    for contact_key, article_key in PLANTED.items():
        best = max(
            (new[(n, article_key)], old[(n, article_key)])
            for n, key in enumerate(contact_of)
            if key == contact_key
        )
        print(f"planted {contact_key} -> {article_key}: new {best[0]:.3f}, old {best[1]:.3f}")


if __name__ == "__main__":
    main()
