"""Exporting a sentence-transformers model to one ONNX graph, checked against torch.

The only part of the ONNX backend that imports torch; it runs once per model and cache folder.
"""

import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from embeddings.onnx_backend import (
    TOKEN_FIELDS,
    ModelSpec,
    OnnxEmbedder,
    Pooling,
    UnsupportedModelError,
)
from embeddings.torch_backend import SentenceTransformerEmbedder

log = logging.getLogger(__name__)

MIN_AGREEMENT = 0.9999  # lowest cosine to the torch vector accepted on any probe text
ONNX_OPSET = 17

# Short and long, alone and in padded batches: the checks an export must pass before it is used.
PROBE_TEXTS = (
    "Finding the right firm to run our employee engagement survey",
    "hi",
    "The weather is lovely today.",
    "Our best people keep quitting and exit interviews tell us nothing we can act on.",
    "How to choose an engagement survey vendor: " + "questions to ask, pricing, benchmarks. " * 40,
    "Pay bands, salary ranges & the new pay-transparency law (2026): what changes? ünïcödé",
)


class PooledModel(torch.nn.Module):
    """Transformer, pooling and L2 normalisation in one module, computed as sentence-transformers
    computes them, so the exported graph returns finished sentence vectors."""

    def __init__(self, transformer: Any, input_names: list[str], pooling: Pooling) -> None:
        super().__init__()
        self.transformer = transformer
        self.input_names = input_names
        self.pooling = pooling

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        features = dict(zip(self.input_names, inputs, strict=True))
        hidden = self.transformer(**features).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


def export_onnx(
    spec: ModelSpec, graph: Path, progress: Callable[[str], None] | None = None
) -> float:
    """Export ``spec``'s model to ``graph``; returns the lowest cosine agreement on the probes.

    The graph is written to a temporary file beside ``graph`` and moved into place only after it
    agrees with torch, so a crash or a second process never leaves a half-written or wrong file.
    ``progress`` hears of each step (the whole takes about 40 s on 2 busy cores).
    """
    say = progress or log.info
    started = time.perf_counter()
    say("Exporting the model to ONNX, once: loading it with torch")
    reference = SentenceTransformerEmbedder(spec.path)
    model = reference.sentence_transformer
    texts = ["a short text", "a slightly longer text to pad the first one"]
    # ``preprocess`` replaced ``tokenize`` (deprecated, and warns) in sentence-transformers 5.
    preprocess = getattr(model, "preprocess", model.tokenize)
    sample = preprocess(texts)
    input_names = [name for name in TOKEN_FIELDS if name in sample]
    wrapper = PooledModel(model[0].auto_model, input_names, spec.pooling).eval()
    graph.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=".onnx.tmp", dir=graph.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        say("Exporting the model to ONNX, once: tracing the graph")
        axes = {n: {0: "batch", 1: "tokens"} for n in input_names}
        with torch.no_grad(), warnings.catch_warnings():
            # Tracing warns about Python branches on shapes; the probes below are the real check.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                tuple(sample[n] for n in input_names),
                str(temporary),
                input_names=input_names,
                output_names=["embedding"],
                dynamic_axes={**axes, "embedding": {0: "batch"}},
                opset_version=ONNX_OPSET,
                dynamo=False,  # the TorchScript exporter: needs no onnxscript
            )
        say("Exporting the model to ONNX, once: checking the graph against torch")
        agreement = measure_agreement(OnnxEmbedder(spec, temporary), reference)
        if agreement < MIN_AGREEMENT:
            raise UnsupportedModelError(
                f"{spec.path}: the ONNX export disagrees with torch (lowest cosine {agreement:.6f})"
            )
        temporary.replace(graph)
    finally:
        temporary.unlink(missing_ok=True)
    say(
        f"Exported the model to {graph} in {time.perf_counter() - started:.1f} s "
        f"(lowest cosine to torch {agreement:.6f})"
    )
    return agreement


def measure_agreement(candidate: OnnxEmbedder, reference: SentenceTransformerEmbedder) -> float:
    """The lowest cosine between the two embedders' vectors over the probe texts, each text
    embedded alone and all of them in one padded batch."""
    texts = list(PROBE_TEXTS)
    expected = reference.embed_documents(texts)
    batched = candidate.embed_documents(texts)
    alone = np.vstack([candidate.embed_documents([t]) for t in texts])
    return float(min(np.min(np.sum(expected * batched, 1)), np.min(np.sum(expected * alone, 1))))
