"""LinkedIn ``Connections.csv``, Google Contacts CSV (current and legacy) and the service's own
contacts CSV (``GET /export/contacts.csv``)."""

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime

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

# LinkedIn writes "22 Dec 2025" today and wrote "1/8/18, 6:14 PM" (US month first) before.
_LINKEDIN_DATES = ("%d %b %Y", "%m/%d/%y, %I:%M %p", "%m/%d/%Y, %I:%M %p", "%m/%d/%y", "%Y-%m-%d")
_GOOGLE_SEPARATOR = " ::: "  # several values in one cell
_PREAMBLE_ROWS = 10  # LinkedIn puts a "Notes:" paragraph before the header
_EMAIL_COLUMN = re.compile(r"^e-mail \d+ - value$")
_WEBSITE_COLUMN = re.compile(r"^website \d+ - value$")
_PHONE_COLUMN = re.compile(r"^phone \d+ - value$")

# The service's own export: one row per contact; lists (phones, pain points, expertise) one item
# a line within their cell.
GIVEFIRST_COLUMNS = (
    "Name",
    "Email",
    "Company",
    "Title",
    "Field",
    "Tier",
    "LinkedIn URL",
    "Phones",
    "Last Contacted On",
    "Pain Points",
    "Expertise",
    "Notes",
)
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What ``inert_cell`` quoted: quotes, then a formula start. A value that itself starts so is
# quoted once more, so reading takes exactly one quote off and gives back what was written.
_QUOTED_FORMULA = re.compile(r"^'+[=+\-@\t\r]")


def inert_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it and never runs it: a cell starting like a formula
    (``=``, ``+``, ``-``, ``@``, tab, CR) gets a leading single quote, as OWASP advises.

    A contact's name or notes come from imported files, so a cell such as
    ``=HYPERLINK("https://evil.example", "Click")`` would otherwise run in the spreadsheet of
    whoever opens the export. ``read_inert_cell`` takes the quote off again on import.
    """
    quoted = value.startswith(_FORMULA_STARTS) or _QUOTED_FORMULA.match(value)
    return "'" + value if quoted else value


def read_inert_cell(cell: str) -> str:
    """The value ``inert_cell`` made ``cell`` from: ``'+1 555 0100`` is ``+1 555 0100``."""
    return cell[1:] if _QUOTED_FORMULA.match(cell) else cell


def _key(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip().lower()


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the line each starts on (quoted values may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise FileRejected(f"Line {line} is not valid CSV: {error}.") from error
        yield line, [c.replace("\r\n", "\n") for c in cells]


def _is_linkedin_header(keys: set[str]) -> bool:
    return {"first name", "last name"} <= keys and bool(keys & {"connected on", "position"})


def _is_google_header(keys: set[str]) -> bool:
    legacy = {"given name", "family name"} <= keys
    current = "first name" in keys and bool(
        keys & {"organization name", "e-mail 1 - value", "middle name", "labels"}
    )
    return legacy or current


def _is_givefirst_header(keys: set[str]) -> bool:
    return {"name", "tier", "pain points", "expertise"} <= keys


def detect_csv(text: str) -> ContactFormat | None:
    """``givefirst``, ``linkedin``, ``google``, or None when the first rows hold no known header."""
    try:
        for count, (_, cells) in enumerate(_rows(text)):
            keys = {_key(c) for c in cells}
            if _is_givefirst_header(keys):
                return ContactFormat.givefirst
            if _is_linkedin_header(keys):
                return ContactFormat.linkedin
            if _is_google_header(keys):
                return ContactFormat.google
            if count >= _PREAMBLE_ROWS:
                break
    except FileRejected:
        return None
    return None


HeaderTest = Callable[[set[str]], bool]
# (values by column, record number, line, warnings) -> a contact, or why the row is skipped
RowReader = Callable[[dict[str, str], int, int, list[Problem]], ContactRow | str]


def _read(
    text: str, is_header: HeaderTest, what: str, format_name: str, read_row: RowReader
) -> Parsed[ContactRow]:
    """Find the header (LinkedIn puts a preamble before it), then read every non-blank row."""
    rows = _rows(text)
    columns: list[str] | None = None
    for count, (_, cells) in enumerate(rows):
        keys = [_key(c) for c in cells]
        if is_header(set(keys)):
            columns = keys
            break
        if count >= _PREAMBLE_ROWS:
            break
    if columns is None:
        raise FileRejected(f"The file is not {what}: its column header was not found.")
    parsed: Parsed[ContactRow] = Parsed(format_name)
    number = 0
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        number += 1
        if len(cells) > len(columns):
            reason = (
                f"the row has {len(cells)} values but the header has {len(columns)} columns "
                "(an unquoted comma?)"
            )
            parsed.skipped.append(Problem(number, line, reason))
            continue
        contact = read_row(dict(zip(columns, cells, strict=False)), number, line, parsed.warnings)
        if isinstance(contact, str):
            parsed.skipped.append(Problem(number, line, contact))
        else:
            parsed.rows.append(Row(number, line, contact))
    return parsed


def _join(*parts: str | None) -> str | None:
    return clean(" ".join(p.strip() for p in parts if p and p.strip()))


def _linkedin_date(value: str) -> date | None:
    for pattern in _LINKEDIN_DATES:
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _linkedin_row(
    values: dict[str, str], number: int, line: int, warnings: list[Problem]
) -> ContactRow | str:
    name = _join(values.get("first name"), values.get("last name"))
    if name is None:
        return "no first or last name"
    connected = clean(values.get("connected on"))
    connected_on = _linkedin_date(connected) if connected else None
    if connected and connected_on is None:
        warnings.append(Problem(number, line, f"'Connected On' {connected!r} is not a date"))
    email = clean(values.get("email address"))
    return ContactRow(
        name=name,
        emails=(email,) if email else (),
        company=clean(values.get("company")),
        title=clean(values.get("position")),
        linkedin_url=linkedin_profile(values.get("url")),
        connected_on=connected_on,
    )


def _multi(values: dict[str, str], pattern: re.Pattern[str]) -> list[str]:
    found: list[str] = []
    for column, cell in values.items():
        if pattern.match(column):
            found += [v.strip() for v in cell.split(_GOOGLE_SEPARATOR) if v.strip()]
    return found


def _first(values: dict[str, str], *columns: str) -> str | None:
    return next((v for c in columns if (v := clean(values.get(c)))), None)


def _google_row(
    values: dict[str, str], number: int, line: int, warnings: list[Problem]
) -> ContactRow | str:
    emails = tuple(dict.fromkeys(_multi(values, _EMAIL_COLUMN)))
    company = _first(values, "organization name", "organization 1 - name")
    name = (
        clean(values.get("name"))
        or _join(
            _first(values, "first name", "given name"),
            _first(values, "middle name", "additional name"),
            _first(values, "last name", "family name"),
        )
        or _first(values, "file as", "nickname")
        or company
        or (emails[0] if emails else None)
    )
    if name is None:
        return "no name, company or e-mail"
    websites = _multi(values, _WEBSITE_COLUMN)
    return ContactRow(
        name=name,
        emails=emails,
        company=company,
        title=_first(values, "organization title", "organization 1 - title"),
        linkedin_url=next(filter(None, map(linkedin_profile, websites)), None),
        notes=clean(values.get("notes")),
        phones=distinct(_multi(values, _PHONE_COLUMN)),
    )


def _lines(cell: str | None) -> tuple[str, ...]:
    return distinct((cell or "").split("\n"))


def _givefirst_row(
    cells: dict[str, str], number: int, line: int, warnings: list[Problem]
) -> ContactRow | str:
    values = {column: read_inert_cell(cell) for column, cell in cells.items()}
    name = clean(values.get("name"))
    if name is None:
        return "no name"
    email = clean(values.get("email"))
    contacted = clean(values.get("last contacted on"))
    try:
        last_contacted_on = date.fromisoformat(contacted) if contacted else None
    except ValueError:
        warnings.append(Problem(number, line, f"'Last Contacted On' {contacted!r} is not a date"))
        last_contacted_on = None
    return ContactRow(
        name=name,
        emails=(email,) if email else (),
        company=clean(values.get("company")),
        title=clean(values.get("title")),
        linkedin_url=clean(values.get("linkedin url")),
        notes=clean(values.get("notes")),
        phones=_lines(values.get("phones")),
        field=clean(values.get("field")),
        tier=clean(values.get("tier")),
        pain_points=_lines(values.get("pain points")),
        expertise=_lines(values.get("expertise")),
        last_contacted_on=last_contacted_on,
    )


def parse_linkedin(text: str) -> Parsed[ContactRow]:
    """A LinkedIn ``Connections.csv`` (with or without the ``Notes:`` preamble and ``URL``)."""
    return _read(
        text,
        _is_linkedin_header,
        "a LinkedIn Connections.csv",
        ContactFormat.linkedin,
        _linkedin_row,
    )


def parse_google(text: str) -> Parsed[ContactRow]:
    """A Google Contacts CSV, current (``First Name, …``) or legacy (``Name, Given Name, …``)."""
    return _read(
        text, _is_google_header, "a Google Contacts CSV", ContactFormat.google, _google_row
    )


def parse_givefirst(text: str) -> Parsed[ContactRow]:
    """The service's own contacts CSV, its cells read back as they were before ``inert_cell``."""
    return _read(
        text,
        _is_givefirst_header,
        "a Givefirst contacts CSV",
        ContactFormat.givefirst,
        _givefirst_row,
    )
