"""The same sentence-transformers model, run by onnxruntime instead of torch.

Why: on this project's CPU the ONNX graph gives the same vectors (cosine to the torch reference
above 0.9999 on every probe text) with a fraction of torch's cold start and memory, and it does
not import torch at all once the graph exists (``docs/benchmarks.md`` has the figures).

How: the first time a model folder is used, ``embeddings.onnx_export`` loads it with
sentence-transformers,
exports transformer + pooling + normalisation as one graph with ``torch.onnx.export``, checks the
graph against torch on a set of probe texts, and only then moves it into the cache folder. Every
later start opens the cached graph with onnxruntime and tokenises with the model's own
``tokenizer.json`` (the ``tokenizers`` library that sentence-transformers uses underneath).
Nothing is downloaded: the export reads the local weights.

Only the common sentence-transformers layout is supported (Transformer, then mean or CLS
pooling, optionally Normalize); ``read_model_spec`` raises ``UnsupportedModelError`` for anything
else and the caller falls back to torch.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from embeddings.embedder import SymmetricEmbedder, Vectors, model_id_of

EXPORT_VERSION = 1  # bump when the exported graph changes: old files are then ignored
TOKEN_FIELDS = ("input_ids", "attention_mask", "token_type_ids")
Pooling = Literal["mean", "cls"]


class UnsupportedModelError(ValueError):
    """The model folder is not a layout the ONNX backend can reproduce exactly."""


@dataclass(frozen=True)
class ModelSpec:
    """What the ONNX backend must reproduce of a sentence-transformers folder."""

    path: Path
    max_seq_length: int
    do_lower_case: bool
    pooling: Pooling


def read_model_spec(path: Path) -> ModelSpec:
    """The tokenisation and pooling of a sentence-transformers folder, or UnsupportedModelError."""
    modules_file = path / "modules.json"
    if not modules_file.is_file() or not (path / "tokenizer.json").is_file():
        raise UnsupportedModelError(f"{path}: no modules.json or tokenizer.json")
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads(modules_file.read_text())]
    if modules not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModelError(f"{path}: modules {modules} are not Transformer + Pooling")
    pooling_config = json.loads(next(path.glob("*_Pooling/config.json")).read_text())
    modes = {k for k, v in pooling_config.items() if k.startswith("pooling_mode_") and v is True}
    pooling: Pooling
    if modes == {"pooling_mode_mean_tokens"}:
        pooling = "mean"
    elif modes == {"pooling_mode_cls_token"}:
        pooling = "cls"
    else:
        raise UnsupportedModelError(f"{path}: pooling {sorted(modes)} is not mean or CLS alone")
    st_config_file = path / "sentence_bert_config.json"
    st_config = json.loads(st_config_file.read_text()) if st_config_file.is_file() else {}
    return ModelSpec(
        path=path,
        max_seq_length=int(st_config.get("max_seq_length") or 512),
        do_lower_case=bool(st_config.get("do_lower_case", False)),
        pooling=pooling,
    )


class OnnxEmbedder(SymmetricEmbedder):
    """A sentence-transformers model run by onnxruntime; same vectors, same model id."""

    def __init__(self, spec: ModelSpec, graph: Path, *, batch_size: int = 32) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self._spec = spec
        self._batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(spec.path / "tokenizer.json"))
        self._tokenizer.no_padding()  # batches are padded here, after sorting by length
        self._tokenizer.enable_truncation(max_length=spec.max_seq_length)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are not ours to fix
        # Idle worker threads sleep instead of spinning: the server shares its cores with SQLite,
        # numpy and other processes, and spinning threads starve them (and themselves) there.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self._input_names = [i.name for i in self._session.get_inputs()]
        self._dimension = int(self._session.get_outputs()[0].shape[-1])
        self._model_id = model_id_of(spec.path)
        self.graph = graph

    def _encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        if not texts:
            return out
        prepared = [t.lower() if self._spec.do_lower_case else t for t in texts]
        encodings = self._tokenizer.encode_batch(prepared)
        # Longest first, as sentence-transformers does: each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            out[rows] = self._run([encodings[i] for i in rows])
        return out

    def _run(self, encodings: Sequence[Any]) -> Vectors:
        width = max(len(e.ids) for e in encodings)
        arrays = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in TOKEN_FIELDS}
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            arrays["input_ids"][row, :n] = encoding.ids
            arrays["attention_mask"][row, :n] = encoding.attention_mask
            arrays["token_type_ids"][row, :n] = encoding.type_ids
        feeds = {name: arrays[name] for name in self._input_names}
        (vectors,) = self._session.run(None, feeds)
        return np.asarray(vectors, dtype=np.float32)


def graph_path(spec: ModelSpec, cache_dir: Path) -> Path:
    """Where the exported graph of this model lives in ``cache_dir``."""
    name = model_id_of(spec.path).replace(":", "-")
    return cache_dir / name / f"model-v{EXPORT_VERSION}.onnx"
