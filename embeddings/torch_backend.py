"""Embedding with sentence-transformers on torch: the reference backend, and the one that loads
any model folder (the ONNX backend reproduces only the common layouts)."""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embeddings.embedder import SymmetricEmbedder, Vectors, model_id_of, use_offline_mode

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


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
