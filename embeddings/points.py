"""What the indexes store and return: points, queries and hits."""

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from embeddings.text import SparseVector

Kind = Literal["article", "pain_point", "expertise"]
KINDS: tuple[Kind, ...] = ("article", "pain_point", "expertise")
# A point's id is its record's id and its passage number, packed in one integer: unique within a
# shard (one kind of one workspace), so a search's hits name their record without a payload read.
PASSAGE_SLOTS = 128  # passage numbers 0..127; an article has at most MAX_PASSAGES + 1 (65)
MAX_RECORD_ID = 2**56  # so that the packed id fits Qdrant's unsigned 64-bit ids


def point_id(record_id: int, passage: int = 0) -> int:
    """A stable id: re-indexing a record overwrites its points instead of adding new ones."""
    if not 0 <= passage < PASSAGE_SLOTS or not 0 <= record_id < MAX_RECORD_ID:
        raise ValueError(f"no point id for record {record_id}, passage {passage}")
    return record_id * PASSAGE_SLOTS + passage


def point_record(point: int) -> tuple[int, int]:
    """The (record id, passage) a point id names."""
    record_id, passage = divmod(point, PASSAGE_SLOTS)
    return record_id, passage


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
    def id(self) -> int:
        return point_id(self.record_id, self.passage)


@dataclass(frozen=True)
class Query:
    """One search: the query's dense vector and its keywords."""

    dense: npt.NDArray[np.float32]
    keywords: SparseVector


class Hit(NamedTuple):
    """One matching point (a named tuple: a search makes hundreds, and a frozen dataclass takes
    five times as long to build)."""

    kind: Kind
    record_id: int
    owner_id: int
    passage: int
    text: str | None  # None for an article passage: the article's (``text.passage_text``)
    score: float  # the hybrid score (``embeddings.hybrid``)
