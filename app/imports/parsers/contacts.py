"""Contact files: which format a file is, and its rows."""

from app.formats import ContactFormat
from app.imports.parsers.common import ContactRow, FileRejected, Parsed, decode_text
from app.imports.parsers.contact_csv import (
    detect_csv,
    parse_givefirst,
    parse_google,
    parse_linkedin,
)
from app.imports.parsers.vcard import looks_like_vcard, parse_vcard

CONTACT_FORMATS = {
    ContactFormat.linkedin: parse_linkedin,
    ContactFormat.google: parse_google,
    ContactFormat.vcard: parse_vcard,
    ContactFormat.givefirst: parse_givefirst,
}


def detect_contact_format(text: str) -> ContactFormat:
    if looks_like_vcard(text):
        return ContactFormat.vcard
    found = detect_csv(text)
    if found is None:
        raise FileRejected(
            "Could not tell the file's format: expected a LinkedIn Connections.csv, a Google "
            "Contacts CSV, a vCard (.vcf) file or a Givefirst contacts CSV."
        )
    return found


def parse_contacts(data: bytes, format_name: str | None = None) -> Parsed[ContactRow]:
    """The contacts of ``data``, in ``format_name`` or the format detected."""
    text = decode_text(data)
    return CONTACT_FORMATS[ContactFormat(format_name or detect_contact_format(text))](text)
