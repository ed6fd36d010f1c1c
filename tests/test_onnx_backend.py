"""The ONNX backend against the torch reference, with the real packaged model.

The default backend must give the vectors sentence-transformers gives (mean cosine at least
0.999, and the same rankings), load without torch, share the model id (so the embedding cache and
the index are shared), and fall back to torch for a model layout it cannot reproduce.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embeddings.factory import load_model, open_onnx_embedder, packaged_model_path
from embeddings.onnx_backend import (
    OnnxEmbedder,
    UnsupportedModelError,
    graph_path,
    read_model_spec,
)
from embeddings.torch_backend import SentenceTransformerEmbedder
from tests.fixtures.hr_network import ARTICLES, CONTACTS
from tests.helpers import givefirst


@pytest.fixture(scope="module")
def torch_model() -> SentenceTransformerEmbedder:
    model = load_model(backend="torch")
    assert isinstance(model, SentenceTransformerEmbedder)
    return model


@pytest.fixture(scope="module")
def onnx_model() -> OnnxEmbedder:
    model = load_model(backend="onnx")
    assert isinstance(model, OnnxEmbedder)
    return model


def _library() -> tuple[list[str], list[str]]:
    """Every article passage-like text and every pain point of the HR fixture."""
    documents = [f"{a.title}. {a.summary}" for a in ARTICLES] + [a.text for a in ARTICLES]
    queries = [p for c in CONTACTS for p in c.pain_points]
    return documents, queries


def test_the_default_backend_is_onnx_and_shares_the_model_id(
    onnx_model: OnnxEmbedder, torch_model: SentenceTransformerEmbedder
) -> None:
    assert isinstance(load_model(), OnnxEmbedder)
    assert onnx_model.model_id == torch_model.model_id
    assert onnx_model.dimension == torch_model.dimension == 384


def test_onnx_vectors_agree_with_torch(
    onnx_model: OnnxEmbedder, torch_model: SentenceTransformerEmbedder
) -> None:
    documents, queries = _library()
    texts = documents + queries
    reference = torch_model.embed_documents(texts)
    vectors = onnx_model.embed_documents(texts)
    cosines = np.sum(reference * vectors, axis=1)
    assert len(texts) > 90
    assert float(np.mean(cosines)) >= 0.999
    assert float(np.min(cosines)) >= 0.9999, "no single text drifts"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_onnx_rankings_equal_torch_rankings(
    onnx_model: OnnxEmbedder, torch_model: SentenceTransformerEmbedder
) -> None:
    documents, queries = _library()
    top = {}
    for name, model in (("torch", torch_model), ("onnx", onnx_model)):
        scores = model.embed_queries(queries) @ model.embed_documents(documents).T
        top[name] = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    assert np.array_equal(top["onnx"], top["torch"])


def test_batching_does_not_change_a_vector(onnx_model: OnnxEmbedder) -> None:
    """Padding a short text into a batch of long ones leaves its vector as it is alone."""
    texts = ["hi", "pay bands", "word " * 300, "How to run a calibration meeting " * 10]
    batched = onnx_model.embed_documents(texts)
    alone = np.vstack([onnx_model.embed_documents([t]) for t in texts])
    assert np.allclose(batched, alone, atol=1e-5)
    assert onnx_model.embed_documents([]).shape == (0, 384)


def test_the_graph_is_exported_once_and_checked(tmp_path: Path) -> None:
    spec = read_model_spec(packaged_model_path())
    graph = graph_path(spec, tmp_path)
    first = open_onnx_embedder(packaged_model_path(), tmp_path)
    assert first.graph == graph and graph.is_file()
    exported_at = graph.stat().st_mtime_ns
    again = open_onnx_embedder(packaged_model_path(), tmp_path)
    assert graph.stat().st_mtime_ns == exported_at, "the cached graph is reused"
    assert [p.name for p in graph.parent.iterdir()] == [graph.name], "no temporary file is left"
    vector = again.embed_queries(["Finding the right firm to run our engagement survey"])
    assert vector.shape == (1, 384)


def test_the_onnx_backend_does_not_import_torch(onnx_model: OnnxEmbedder) -> None:
    """Once exported, a fresh process embeds with onnxruntime alone: torch is never imported."""
    code = (
        "import sys\n"
        "from embeddings.factory import load_model\n"
        "model = load_model()\n"
        "vector = model.embed_queries(['The weather is lovely today.'])\n"
        "print(type(model).__name__, vector.shape[1], 'torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.split() == ["OnnxEmbedder", "384", "False"]


def _copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model-copy"
    shutil.copytree(packaged_model_path(), folder)
    return folder


def test_a_layout_onnx_cannot_reproduce_falls_back_to_torch(tmp_path: Path) -> None:
    """Max pooling is not what the exported graph computes: auto runs torch, onnx refuses."""
    folder = _copy_model(tmp_path)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    pooling.write_text(json.dumps(config))

    with pytest.raises(UnsupportedModelError, match="pooling"):
        read_model_spec(folder)
    with pytest.raises(UnsupportedModelError):
        load_model(folder, backend="onnx", onnx_dir=tmp_path / "onnx")
    model = load_model(folder, backend="auto", onnx_dir=tmp_path / "onnx")
    assert isinstance(model, SentenceTransformerEmbedder)
    assert model.embed_queries(["pay bands"]).shape == (1, 384)
    assert not (tmp_path / "onnx").exists(), "nothing was exported"


def test_a_folder_without_the_sentence_transformers_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UnsupportedModelError, match=r"modules\.json"):
        read_model_spec(tmp_path)


def test_givefirst_model_says_what_runs_the_model(tmp_path: Path, onnx_model: OnnxEmbedder) -> None:
    data_dir = tmp_path / "data"
    done = givefirst(data_dir, "model")
    assert done.returncode == 0, done.stderr
    shown = dict(line.split("\t", 1) for line in done.stdout.splitlines())
    assert shown["backend"] == "onnx" and shown["model"] == onnx_model.model_id
    assert shown["dimension"] == "384" and Path(shown["graph"]).is_file()

    done = givefirst(data_dir, "model", settings={"GIVEFIRST_EMBEDDING_BACKEND": "torch"})
    assert done.returncode == 0, done.stderr
    shown = dict(line.split("\t", 1) for line in done.stdout.splitlines())
    assert shown["backend"] == "torch" and shown["model"] == onnx_model.model_id


def test_givefirst_model_refuses_a_folder_that_is_no_model(tmp_path: Path) -> None:
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    done = givefirst(tmp_path / "data", "model", settings={"GIVEFIRST_MODEL": str(not_a_model)})
    assert done.returncode == 1
    assert "cannot load the model" in done.stderr and "not a sentence-transformers" in done.stderr
