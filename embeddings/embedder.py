"""The embedder interface: text in, unit-length float32 vectors out.

``Embedder`` is the small interface the rest of the code sees. Its implementations live beside
it: ``embeddings.torch_backend`` (sentence-transformers, the reference) and
``embeddings.onnx_backend`` (the same weights run by onnxruntime, no torch); ``embeddings.cache``
puts a persistent cache in front of either, and ``embeddings.factory.load_model`` picks one.
This module imports neither torch nor onnxruntime.
"""

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


def use_offline_mode() -> None:
    """Forbid the Hugging Face libraries from reaching the network: models load from disk only."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


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
