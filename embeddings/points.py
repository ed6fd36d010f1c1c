"""What the indexes store and return: points, queries and hits."""

import uuid
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from embeddings.text import SparseVector

Kind = Literal["article", "pain_point", "expertise"]
KINDS: tuple[Kind, ...] = ("article", "pain_point", "expertise")
_NAMESPACE = uuid.UUID("5b0f7d1e-2a53-4c1f-9a47-3f4f0d6c9e21")


def point_id(kind: Kind, record_id: int, passage: int = 0) -> str:
    """A stable id: re-indexing a record overwrites its points instead of adding new ones."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{record_id}:{passage}"))


@dataclass(frozen=True)
class IndexPoint:
    """One piece of text of one workspace, embedded: an article passage, a pain point or an
    expertise line."""

    workspace_id: int
    kind: Kind
    record_id: int  # the article, pain point or expertise row
    owner_id: int  # the contact (pain points, expertise) or the article (passages)
    passage: int
    text: str
    text_hash: str
    dense: npt.NDArray[np.float32]
    keywords: SparseVector

    @property
    def id(self) -> str:
        return point_id(self.kind, self.record_id, self.passage)


@dataclass(frozen=True)
class Query:
    """One search: the query's dense vector and its keywords."""

    dense: npt.NDArray[np.float32]
    keywords: SparseVector


@dataclass(frozen=True)
class Hit:
    """One matching point."""

    kind: Kind
    record_id: int
    owner_id: int
    passage: int
    text: str
    score: float  # the hybrid score (``embeddings.hybrid``)
