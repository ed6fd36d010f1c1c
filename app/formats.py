"""The names of the file formats read and written (the API's, the pages' and the command line's
``format``)."""

from enum import StrEnum


class ContactFormat(StrEnum):
    linkedin = "linkedin"
    google = "google"
    vcard = "vcard"
    givefirst = "givefirst"


class ArticleFormat(StrEnum):
    bookmarks = "bookmarks"
    opml = "opml"
    feed = "feed"


class TouchFormat(StrEnum):
    ics = "ics"
    mbox = "mbox"
    eml = "eml"


class ExportFormat(StrEnum):
    json = "json"
    vcard = "vcard"
    csv = "csv"
