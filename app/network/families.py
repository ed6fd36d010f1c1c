"""A contact's field: the user's word where they gave one, otherwise the nearest job family.

The inference embeds each job family's phrases once (as documents) and each contact's "title,
company, expertise" text as a query, and takes the family of the nearest phrase, its cosine the
confidence; below ``floor`` it says nothing (the field is unknown). Plain Python over an
``Embedder``: no HTTP, no records. The model runs only for texts missing from the embedding cache.
"""

from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

import numpy as np

from embeddings.embedder import Embedder

# The families a contact's field is inferred from: distinct lines of work, each described by the
# short phrases its titles and expertise use (docs/network-health.md lists them). A contact's
# family is the one holding the phrase nearest to its profile: one phrase per line of work matched
# far better on the HR fixture than one long description per family, which blurs into its
# neighbours.
JOB_FAMILIES: dict[str, tuple[str, ...]] = {
    "Human Resources": (
        "human resources",
        "HR",
        "people operations",
        "recruiting",
        "talent acquisition",
        "compensation and benefits",
        "employee relations",
        "learning and development",
        "HR business partner",
    ),
    "Education": (
        "education",
        "teaching",
        "teacher",
        "school",
        "university",
        "professor",
        "academic",
        "adult education",
        "curriculum",
        "principal of a school",
        "student counselor",
    ),
    "Software and IT": (
        "software engineering",
        "developer",
        "information technology",
        "IT",
        "data engineering",
        "cloud infrastructure",
        "cybersecurity",
        "product engineering",
    ),
    "Sales and Business Development": (
        "sales",
        "account executive",
        "business development",
        "customer accounts",
        "revenue",
        "partnerships",
        "selling",
    ),
    "Marketing and Communications": (
        "marketing",
        "brand",
        "communications",
        "public relations",
        "content",
        "social media",
        "advertising",
        "internal communications",
    ),
    "Finance and Accounting": (
        "finance",
        "accounting",
        "controller",
        "CFO",
        "audit",
        "tax",
        "treasury",
        "financial planning and analysis",
        "payroll accounting",
    ),
    "Operations and Supply Chain": (
        "operations",
        "supply chain",
        "logistics",
        "manufacturing plant",
        "procurement",
        "warehouse",
        "distribution",
        "production",
    ),
    "Healthcare": (
        "healthcare",
        "hospital",
        "nursing",
        "physician",
        "medical",
        "clinical",
        "patient care",
        "pharmacy",
    ),
    "Legal and Compliance": (
        "law",
        "lawyer",
        "attorney",
        "legal counsel",
        "compliance",
        "employment law",
        "regulatory",
        "litigation",
    ),
    "Consulting and Coaching": (
        "consulting",
        "consultant",
        "advisory",
        "executive coaching",
        "career coaching",
        "management consulting",
        "independent adviser",
    ),
    "Government and Nonprofit": (
        "government",
        "public sector",
        "nonprofit",
        "charity",
        "foundation",
        "public administration",
        "community services",
    ),
    "Design and Creative": (
        "design",
        "designer",
        "user experience",
        "graphic design",
        "creative director",
        "architecture",
        "art",
    ),
}
DEFAULT_FLOOR = 0.4  # below this cosine the field is unknown (docs/network-health.md)


class FieldSource(StrEnum):
    USER = "user"  # the contact's own ``field``: always wins
    INFERRED = "inferred"  # the nearest job family, at or above the floor
    UNKNOWN = "unknown"  # no field and nothing to infer from, or below the floor


class FieldGuess(NamedTuple):
    field: str | None
    source: FieldSource
    confidence: float  # 1.0 for the user's word; the cosine for an inference


UNKNOWN = FieldGuess(None, FieldSource.UNKNOWN, 0.0)


def profile_text(title: str | None, company: str | None, expertise: Sequence[str]) -> str:
    """What the inference reads of a contact: "title, company, expertise; expertise"."""
    head = ", ".join(part.strip() for part in (title, company) if part and part.strip())
    lines = "; ".join(line.strip() for line in expertise if line.strip())
    return ". ".join(part for part in (head, lines) if part)


class FieldInference:
    """The job family of a contact's profile text: the family of the nearest phrase, with its
    cosine as confidence."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        floor: float = DEFAULT_FLOOR,
        families: dict[str, tuple[str, ...]] = JOB_FAMILIES,
    ) -> None:
        self._embedder = embedder
        self.floor = floor
        self._owners = [name for name, phrases in families.items() for _ in phrases]
        phrases = [phrase for family in families.values() for phrase in family]
        self._phrases = embedder.embed_documents(phrases)  # cached: the model runs once

    def infer(self, texts: Sequence[str]) -> list[FieldGuess]:
        """One guess per text; an empty text is unknown without asking the model."""
        guesses = [UNKNOWN] * len(texts)
        present = [i for i, text in enumerate(texts) if text]
        if not present:
            return guesses
        vectors = self._embedder.embed_queries([texts[i] for i in present])
        cosines = vectors @ self._phrases.T
        nearest = np.argmax(cosines, axis=1)
        for row, i in enumerate(present):
            cosine = round(float(cosines[row, nearest[row]]), 4)
            if cosine >= self.floor:
                guesses[i] = FieldGuess(self._owners[nearest[row]], FieldSource.INFERRED, cosine)
            else:
                guesses[i] = FieldGuess(None, FieldSource.UNKNOWN, cosine)
        return guesses


def resolve_fields(
    user_fields: Sequence[str | None], texts: Sequence[str], inference: FieldInference | None
) -> list[FieldGuess]:
    """Each contact's field: the user's where set (confidence 1.0), else the inference's."""
    users: dict[str | None, FieldGuess] = {None: UNKNOWN}  # one guess per distinct field
    guesses = []
    for field in user_fields:
        guess = users.get(field)
        if guess is None:
            assert field is not None
            guess = FieldGuess(field.strip(), FieldSource.USER, 1.0) if field.strip() else UNKNOWN
            users[field] = guess
        guesses.append(guess)
    if inference is None:
        return guesses
    wanted = [i for i, guess in enumerate(guesses) if guess.source is FieldSource.UNKNOWN]
    for i, guess in zip(wanted, inference.infer([texts[i] for i in wanted]), strict=True):
        guesses[i] = guess
    return guesses
