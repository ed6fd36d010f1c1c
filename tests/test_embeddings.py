"""The embeddings library and the index, with the real packaged model and real Qdrant Edge."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from app.db import session_scope
from embeddings.cache import CachedEmbedder, EmbeddingCache
from embeddings.factory import load_model, packaged_model_path
from embeddings.index import EdgeIndex
from embeddings.text import (
    split_passages,
    tokenize,
    window_text,
)
from tests.conftest import make_article, make_contact, running_api

# Official checksums of sentence-transformers/all-MiniLM-L6-v2 (its model repository's LFS ids).
OFFICIAL_SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_packaged_model_is_the_official_one() -> None:
    weights = packaged_model_path() / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert digest == OFFICIAL_SAFETENSORS_SHA256


def test_model_card_similarities() -> None:
    """The model card's example: 'weather is lovely' vs 'so sunny outside' is 0.6660."""
    model = load_model()
    vectors = model.embed_documents(
        [
            "The weather is lovely today.",
            "It's so sunny outside!",
            "He drove to the stadium.",
        ]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert _cosine(vectors[0], vectors[1]) == pytest.approx(0.6660, abs=0.002)
    assert _cosine(vectors[0], vectors[2]) == pytest.approx(0.1046, abs=0.002)
    assert _cosine(vectors[1], vectors[2]) == pytest.approx(0.1411, abs=0.002)


def test_semantic_match_beats_keyword_overlap() -> None:
    """A paraphrase with no shared words is closer than a text sharing the words."""
    model = load_model()
    pairs = [
        (
            "Our best people keep quitting",
            "How to reduce employee turnover and retain top talent",
            "Best people practices for keeping our office plants alive",
        ),
        (
            "We cannot find qualified nurses",
            "Recruiting strategies for the healthcare staffing shortage",
            "Qualified nurses guide to finding good running shoes",
        ),
    ]
    for query, paraphrase, word_overlap in pairs:
        assert not set(tokenize(query)) & set(tokenize(paraphrase)), "no shared word"
        assert set(tokenize(query)) & set(tokenize(word_overlap)), "shares words"
        q, p, w = model.embed_queries([query, paraphrase, word_overlap])
        assert _cosine(q, p) > _cosine(q, w), (query, paraphrase)


def test_the_cache_embeds_each_text_once(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite3")
    embedder = CachedEmbedder(load_model(), cache)
    first = embedder.embed_documents(["alpha beta", "gamma delta", "alpha beta"])
    assert embedder.computed == 2
    again = embedder.embed_documents(["gamma delta", "alpha beta"])
    assert embedder.computed == 2
    assert np.allclose(again[0], first[1]) and np.allclose(again[1], first[0])
    # A new process (a new cache object on the same file) still finds them.
    reopened = CachedEmbedder(load_model(), EmbeddingCache(tmp_path / "cache.sqlite3"))
    reopened.embed_documents(["alpha beta"])
    assert reopened.computed == 0


def test_long_articles_are_split_into_overlapping_passages() -> None:
    words = [f"w{i}" for i in range(400)]
    passages = split_passages("Title", "Summary", " ".join(words))
    assert passages[0].text == "Title. Summary"
    assert len(passages) >= 3
    assert all(p.text.startswith("Title w") for p in passages[1:]), "the title leads each window"
    first, second = (window_text("Title", p.text).split() for p in passages[1:3])
    assert first[0] == "w0" and set(first) & set(second), "consecutive passages overlap"
    assert passages[-1].text.split()[-1] == "w399", "the end of the text is covered"


def test_the_index_follows_the_records(data_dir: Path) -> None:
    """Create, edit, resolve and delete update the index in the same request."""
    with running_api(data_dir) as api:
        headers = api.headers()
        index = api.app.state.indexer.index
        contact = make_contact(
            api.client,
            headers,
            pain_points=["hiring nurses", "night shift burnout"],
            expertise=["payroll"],
        )
        body = {"title": "Night shifts", "url": "https://example.org/a", "text": "word " * 500}
        article = make_article(api.client, headers, **body)
        assert index.count(kind="pain_point") == 2
        assert index.count(kind="expertise") == 1
        assert index.count(kind="article") == len(split_passages("t", None, "word " * 500))

        embedder = api.app.state.indexer.embedder
        before = embedder.computed
        pid = contact["pain_points"][0]["id"]
        url = f"/contacts/{contact['id']}/pain-points/{pid}"
        api.client.patch(url, json={"text": "hiring ICU nurses"}, headers=headers)
        assert embedder.computed == before + 1, "only the edited pain point is embedded"

        assert api.client.post("/articles", json=body, headers=headers).status_code == 200
        assert embedder.computed == before + 1, "re-saving unchanged text embeds nothing"

        api.client.delete(url, headers=headers)
        assert index.count(kind="pain_point") == 1, "a resolved pain point leaves the index"
        api.client.delete(f"/articles/{article['id']}", headers=headers)
        assert index.count(kind="article") == 0
        api.client.delete(f"/contacts/{contact['id']}", headers=headers)
        assert index.count() == 0


def test_start_up_repairs_an_erased_index_without_the_model(data_dir: Path) -> None:
    with running_api(data_dir) as api:
        headers = api.headers()
        make_contact(api.client, headers, pain_points=["pay bands"], expertise=["comp design"])
        make_article(api.client, headers, summary="Setting salary ranges")
        index = api.app.state.indexer.index
        expected = index.count()
        index.drop()  # as if the vector folder were lost
    with running_api(data_dir) as api:
        assert api.app.state.indexer.index.count() == expected
        assert api.app.state.indexer.embedder.computed == 0, "vectors came from the cache"


def test_a_model_switch_rebuilds_instead_of_mixing(data_dir: Path) -> None:
    with running_api(data_dir) as api:
        headers = api.headers()
        make_contact(api.client, headers, pain_points=["pay bands"])
        old = api.app.state.indexer.index
        assert isinstance(old, EdgeIndex) and old.folder.is_dir()
        new = EdgeIndex(old.root, model_id="another-model", dimension=384)
        assert new.folder != old.folder
        old.close()
        new.open()
        assert not old.folder.exists(), "the old model's vectors are gone"
        api.app.state.indexer.index = new
        with session_scope(api.app.state.session_factory) as session:
            written, _ = api.app.state.indexer.reconcile(session)
        assert written == 1 and new.count() == 1
