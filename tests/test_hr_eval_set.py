"""The HR evaluation set (tests/fixtures/hr_eval): what its README promises, checked."""

import json
from collections import Counter
from pathlib import Path

from app.evaluation import load_dataset

FOLDER = Path(__file__).parent / "fixtures" / "hr_eval"


def _rows(name: str) -> list[dict[str, object]]:
    with (FOLDER / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_the_set_is_as_large_and_varied_as_promised() -> None:
    articles = _rows("corpus.jsonl")
    words = [len(str(a["text"]).split()) for a in articles]
    assert len(articles) >= 400
    assert sum(w > 1500 for w in words) >= len(articles) / 3
    assert sum(w == 0 for w in words) >= 4  # title-only bookmarks
    assert sum(len(str(a["text"])) > 30_000 for a in articles) >= 4  # very long reports
    assert all(str(a["title"]).strip() for a in articles)
    assert len({a["_id"] for a in articles}) == len(articles)
    pain_points = _rows("queries.jsonl")
    assert len(pain_points) >= 150
    assert Counter(str(p["source_split"]) for p in pain_points).keys() == {"['tune']", "['test']"}


def test_every_pain_point_has_a_right_answer_and_every_grade_names_real_records() -> None:
    tune = load_dataset(FOLDER, "tune")
    test = load_dataset(FOLDER, "test")
    assert not set(tune.queries) & set(test.queries)
    assert len(tune.queries) + len(test.queries) == len(_rows("queries.jsonl"))
    for dataset in (tune, test):
        for query, judged in dataset.qrels.items():
            assert set(judged.values()) <= {0, 1, 2}, query
            assert 2 in judged.values(), f"{query} has no article graded 2"
            assert set(judged) <= set(dataset.corpus), query
