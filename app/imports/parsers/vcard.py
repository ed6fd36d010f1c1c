"""vCard 3.0 and 4.0 (RFC 2426, RFC 6350): read contacts from a ``.vcf``, write them back.

A small reader of our own rather than a library: it keeps the line every card starts on (for the
import report) and reads 4.0 parameters (``PREF=1``, quoted values) as well as 3.0 ones. What
vCard has no property for (tier, field, pain points, expertise) is written as ``X-GIVEFIRST-``
properties and read back from them.
"""

import io
import quopri
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.formats import ContactFormat
from app.imports.parsers.common import (
    ContactRow,
    FileRejected,
    Parsed,
    Problem,
    Row,
    clean,
    distinct,
    linkedin_profile,
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PROPERTY = re.compile(r"^(?:(?P<group>[A-Za-z0-9-]+)\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>;.*)?$")
# The name and parameters: up to the first colon outside a quoted parameter value. Possessive
# (``*+``): the regex engine keeps no backtracking state per character of a long line.
_HEAD = re.compile(r'(?:"[^"]*"|[^":]+)*+')
_QP = re.compile(r"QUOTED-PRINTABLE", re.IGNORECASE)
_FOLD_OCTETS = 75
_TIER = "X-GIVEFIRST-TIER"
_FIELD = "X-GIVEFIRST-FIELD"
_PAIN_POINT = "X-GIVEFIRST-PAIN-POINT"  # one property per pain point
_EXPERTISE = "X-GIVEFIRST-EXPERTISE"  # one property per line


@dataclass
class Property:
    name: str
    params: dict[str, list[str]]
    value: str
    group: str | None = None

    def types(self) -> set[str]:
        return {t.lower() for v in self.params.get("TYPE", []) for t in v.split(",")}

    def preferred(self) -> bool:
        return "pref" in self.types() or "PREF" in self.params


@dataclass
class Card:
    record: int
    line: int
    properties: list[Property] = field(default_factory=list)

    def all(self, name: str) -> list[Property]:
        return [p for p in self.properties if p.name == name]

    def first(self, name: str) -> str | None:
        return next((clean(p.value) for p in self.all(name) if clean(p.value)), None)

    def texts(self, name: str) -> tuple[str, ...]:
        """The text values of every ``name`` property, unescaped, each once."""
        return distinct(_unescape(p.value) for p in self.all(name))

    def text(self, name: str) -> str | None:
        return clean(_unescape(value)) if (value := self.first(name)) else None


def _unescape(value: str) -> str:
    return re.sub(
        r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value, flags=re.DOTALL
    )


def _split_unescaped(value: str, separator: str) -> list[str]:
    """Split a structured value (``N``, ``ORG``) on separators that are not escaped."""
    parts = re.split(rf"(?<!\\){re.escape(separator)}", value)
    return [_unescape(p) for p in parts]


def _split_params(text: str) -> list[str]:
    """``;TYPE=work;LABEL="a;b"`` into its parameters, minding quotes."""
    params, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            params.append(current)
            current = ""
        else:
            current += char
    params.append(current)
    return [p for p in params if p]


def _parse_params(text: str | None) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for param in _split_params(text or ""):
        name, sep, value = param.partition("=")
        if not sep:  # vCard 2.1 style: ;WORK;PREF
            name, value = "TYPE", param
        params.setdefault(name.strip().upper(), []).append(value.strip().strip('"'))
    return params


def _physical_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one by one (not a list of them all: a file of short lines would
    hold a string object per line at once)."""
    position = 0
    for match in _LINE_BREAK.finditer(text):
        yield text[position : match.start()]
        position = match.end()
    yield text[position:]


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Unfolded lines with the physical line each starts on.

    A line starting with a space or a tab continues the one before; a quoted-printable value
    (vCard 2.1, as phones still export) continues while it ends with ``=``. A continued line is
    gathered in a buffer, so a value continued over many lines costs its length, not its square.
    """
    parts: io.StringIO | None = None  # the pieces before ``last`` of a continued line
    last: str | None = None  # the latest piece, kept apart while a QP "=" may come off it
    quoted_printable = False
    start = 0
    for number, raw in enumerate(_physical_lines(text), start=1):
        if last is not None and raw[:1] in (" ", "\t"):
            piece = raw[1:]
        elif last is not None and quoted_printable and last.endswith("="):
            last, piece = last[:-1], raw
        else:
            if last is not None:
                yield start, _joined(parts, last)
            # Only the name and parameters say that a value is quoted-printable.
            head = _HEAD.match(raw)
            quoted_printable = bool(head and _QP.search(head.group()))
            parts, last, start = None, raw, number
            continue
        if piece:
            parts = parts or io.StringIO()
            parts.write(last)
            last = piece
    if last is not None:
        yield start, _joined(parts, last)


def _joined(parts: io.StringIO | None, last: str) -> str:
    if parts is None:
        return last
    parts.write(last)
    return parts.getvalue()


class _BadProperty(ValueError):
    """A property that is a property but cannot be read; its card is skipped."""


def _property(line: str) -> Property | None:
    # The value starts at the first colon outside a quoted parameter value.
    head = _HEAD.match(line)
    colon = head.end() if head and line[head.end() : head.end() + 1] == ":" else -1
    match = _PROPERTY.match(line[:colon]) if colon > 0 else None
    if match is None:
        return None
    value = line[colon + 1 :]
    params = _parse_params(match.group("params"))
    if any(e.upper() == "QUOTED-PRINTABLE" for e in params.get("ENCODING", [])):
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        try:
            value = quopri.decodestring(value.encode("ascii", "replace")).decode(charset, "replace")
        except (LookupError, UnicodeError) as error:  # "foo", "rot13": no text encoding
            raise _BadProperty(
                f"the character set {charset!r} is not one we know (export it as UTF-8)"
            ) from error
    return Property(match.group("name").upper(), params, value, match.group("group"))


def read_cards(text: str) -> tuple[list[Card], list[Problem]]:
    """Every card of a ``.vcf`` file, and the cards that could not be read."""
    cards: list[Card] = []
    broken: list[Problem] = []
    card: Card | None = None
    bad: str | None = None
    number = 0
    for line, content in _logical_lines(text):
        if not content.strip():
            continue
        upper = content.strip().upper()
        if upper == "BEGIN:VCARD":
            if card is not None:
                broken.append(Problem(card.record, card.line, "no END:VCARD"))
            number += 1
            card, bad = Card(number, line), None
        elif card is None:
            raise FileRejected(f"Line {line} is outside any BEGIN:VCARD … END:VCARD card.")
        elif upper == "END:VCARD":
            if bad is None:
                cards.append(card)
            else:
                broken.append(Problem(card.record, card.line, bad))
            card = None
        else:
            try:
                prop = _property(content)
            except _BadProperty as error:
                bad = bad or f"line {line}: {error}"
                continue
            if prop is not None:
                card.properties.append(prop)
            elif bad is None:
                bad = f"line {line} is not a vCard property"
    if card is not None:
        broken.append(Problem(card.record, card.line, "no END:VCARD"))
    return cards, broken


def _name(card: Card) -> str | None:
    if name := card.first("FN"):
        return clean(_unescape(name))
    if n := card.first("N"):
        family, given, additional, *_ = [*_split_unescaped(n, ";"), "", "", ""]
        return clean(" ".join(p.strip() for p in (given, additional, family) if p.strip()))
    return None


def _linkedin(card: Card) -> str | None:
    labels = {p.group: p.value.lower() for p in card.all("X-ABLABEL") if p.group}
    for prop in card.properties:
        if prop.name in ("URL", "X-SOCIALPROFILE", "SOCIALPROFILE") or (
            prop.group and "linkedin" in labels.get(prop.group, "")
        ):
            url = linkedin_profile(_unescape(prop.value))
            if url:
                return url
    return None


def card_to_contact(card: Card) -> ContactRow | str:
    name = _name(card)
    emails = sorted(card.all("EMAIL"), key=lambda p: not p.preferred())
    addresses = tuple(dict.fromkeys(v for p in emails if (v := clean(p.value))))
    org = card.first("ORG")
    company = clean(_split_unescaped(org, ";")[0]) if org else None
    if name is None:
        name = company or (addresses[0] if addresses else None)
    if name is None:
        return "no name (FN or N), organisation or e-mail"
    return ContactRow(
        name=name,
        emails=addresses,
        company=company,
        title=card.text("TITLE"),
        linkedin_url=_linkedin(card),
        notes=card.text("NOTE"),
        phones=distinct(v.removeprefix("tel:") for v in card.texts("TEL")),  # 4.0: a tel: URI
        field=card.text(_FIELD),
        tier=card.text(_TIER),
        pain_points=card.texts(_PAIN_POINT),
        expertise=card.texts(_EXPERTISE),
    )


def looks_like_vcard(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n")[:11].upper() == "BEGIN:VCARD"


def parse_vcard(text: str) -> Parsed[ContactRow]:
    """The contacts of a ``.vcf`` file with one or more cards."""
    if not looks_like_vcard(text):
        raise FileRejected("The file is not a vCard file: it does not start with BEGIN:VCARD.")
    cards, broken = read_cards(text)
    parsed: Parsed[ContactRow] = Parsed(ContactFormat.vcard, skipped=broken)
    for card in cards:
        contact = card_to_contact(card)
        if isinstance(contact, str):
            parsed.skipped.append(Problem(card.record, card.line, contact))
        else:
            parsed.rows.append(Row(card.record, card.line, contact))
    parsed.skipped.sort(key=lambda p: p.record)
    return parsed


# --- writing --------------------------------------------------------------------------------


def _escape(value: str) -> str:
    """A text value for a content line. Every line break (CRLF, LF and a lone CR, which readers
    take as a line end too) becomes ``\\n``: a break left in would end the line, and the text
    after it would be read as a property of its own (``\\rEMAIL:someone@else``)."""
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line into 75-octet pieces without splitting a UTF-8 character."""
    pieces: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = _FOLD_OCTETS if not pieces else _FOLD_OCTETS - 1
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


@dataclass(frozen=True)
class CardFields:
    """What a contact puts in a card."""

    name: str
    email: str | None = None
    company: str | None = None
    title: str | None = None
    linkedin_url: str | None = None
    notes: str | None = None
    categories: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    field: str | None = None
    tier: str | None = None
    pain_points: tuple[str, ...] = ()
    expertise: tuple[str, ...] = ()


def write_vcards(contacts: Iterable[CardFields]) -> str:
    """vCard 3.0 text (CRLF line ends, folded lines) with one card per contact."""
    lines: list[str] = []
    for c in contacts:
        given, _, family = c.name.rpartition(" ")
        given, family = (given, family) if given else (family, "")
        card = [
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"N:{_escape(family)};{_escape(given)};;;",
            f"FN:{_escape(c.name)}",
        ]
        if c.email:
            card.append(f"EMAIL;TYPE=INTERNET:{c.email}")
        if c.company:
            card.append(f"ORG:{_escape(c.company)}")
        if c.title:
            card.append(f"TITLE:{_escape(c.title)}")
        if c.linkedin_url:
            card.append(f"URL:{c.linkedin_url}")
            card.append(f"X-SOCIALPROFILE;TYPE=linkedin:{c.linkedin_url}")
        if c.notes:
            card.append(f"NOTE:{_escape(c.notes)}")
        if c.categories:
            card.append("CATEGORIES:" + ",".join(_escape(t) for t in c.categories))
        card += [f"TEL;TYPE=VOICE:{_escape(phone)}" for phone in c.phones]
        if c.field:
            card.append(f"{_FIELD}:{_escape(c.field)}")
        if c.tier:
            card.append(f"{_TIER}:{_escape(c.tier)}")
        card += [f"{_PAIN_POINT}:{_escape(text)}" for text in c.pain_points]
        card += [f"{_EXPERTISE}:{_escape(text)}" for text in c.expertise]
        card.append("END:VCARD")
        lines += [_fold(line) for line in card]
    return "".join(line + "\r\n" for line in lines)
