"""Text preparation: article passages, and BM25-style sparse vectors for keyword matching."""

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import snowballstemmer

PASSAGE_WORDS = 160  # MiniLM reads 256 word pieces: about 180 English words
PASSAGE_OVERLAP = 40
MAX_PASSAGES = 64  # a 200,000-character article would otherwise make ~300 passages

_APOSTROPHE = "\u2019"
_WORD = re.compile(rf"[a-z0-9]+(?:['{_APOSTROPHE}][a-z]+)?")
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves""".split()  # noqa: SIM905 (a word list reads better as prose)
)
# BM25's usual constants; the average length is of a passage, about PASSAGE_WORDS words less
# the stopwords.
BM25_K1 = 1.2
BM25_B = 0.75
BM25_AVG_TERMS = 90.0


@dataclass(frozen=True)
class Passage:
    index: int
    text: str


def split_passages(title: str, summary: str | None, body: str | None) -> list[Passage]:
    """Passage 0 is title + summary; then overlapping windows of the body, each after the title.

    A match can then point at the passage that answered, and a long article is not squeezed
    into one vector (the model would read only its first 256 word pieces). The title in front
    of each window says what the window is about: both the model and BM25 then see a window's
    words together with the title's (dense alone on SciFact: nDCG@10 0.657 over these passages,
    0.645 with one vector per document; ``docs/benchmarks.md``).
    """
    title = " ".join(title.split())
    head = title if not summary else f"{title}. {summary.strip()}"
    passages = [Passage(0, head)]
    words = (body or "").split()
    step = PASSAGE_WORDS - PASSAGE_OVERLAP
    start = 0
    while start < len(words) and len(passages) <= MAX_PASSAGES:
        window = " ".join(words[start : start + PASSAGE_WORDS])
        passages.append(Passage(len(passages), f"{title} {window}" if title else window))
        if start + PASSAGE_WORDS >= len(words):
            break
        start += step
    return passages


def passage_text(title: str, summary: str | None, body: str | None, index: int) -> str:
    """The text of passage ``index`` of an article, as the index holds it ("" past the last)."""
    passages = split_passages(title, summary, body)
    return passages[index].text if 0 <= index < len(passages) else ""


def window_text(title: str, passage: str) -> str:
    """A body passage without the title in front of it (what a reader is shown)."""
    title = " ".join(title.split())
    return passage.removeprefix(f"{title} ") if title else passage


def tokenize(text: str) -> list[str]:
    """Lower-case, stopword-free, Snowball-stemmed tokens ("Hiring surveys" -> hire, survey)."""
    return [_stem(t) for t in _WORD.findall(text.lower()) if t not in _STOPWORDS]


_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(token: str) -> str:
    return str(_stemmer.stemWord(token.replace(_APOSTROPHE, "'").removesuffix("'s")))


def term_id(term: str) -> int:
    """A stable 31-bit id for a term (hashing: no vocabulary to store or keep in step)."""
    return zlib.crc32(term.encode()) & 0x7FFFFFFF


@dataclass(frozen=True)
class SparseVector:
    indices: npt.NDArray[np.int64]
    values: npt.NDArray[np.float32]

    @classmethod
    def empty(cls) -> "SparseVector":
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float32))

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.indices.tolist(), self.values.tolist(), strict=True))


def _sparse(weights: dict[int, float]) -> SparseVector:
    keys = sorted(weights)
    return SparseVector(
        np.array(keys, dtype=np.int64), np.array([weights[k] for k in keys], dtype=np.float32)
    )


def sparse_document(text: str) -> SparseVector:
    """BM25 term weights of a document (the IDF part is applied at search time)."""
    counts = Counter(term_id(t) for t in tokenize(text))
    length = sum(counts.values())
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / BM25_AVG_TERMS)
    return _sparse({k: tf * (BM25_K1 + 1) / (tf + norm) for k, tf in counts.items()})


def sparse_query(text: str) -> SparseVector:
    """Each distinct query term, weighted by how often the query says it.

    A word the query repeats counts again, as in Lucene and bm25s: in a long pain point the
    words it keeps coming back to are what it is about. (On ArguAna, whose queries are whole
    arguments, BM25 alone goes from nDCG@10 0.435 with every term once to 0.505, past the
    published bm25s baseline; SciFact's short queries barely move: ``docs/benchmarks.md``.)
    """
    return _sparse({k: float(n) for k, n in Counter(term_id(t) for t in tokenize(text)).items()})
