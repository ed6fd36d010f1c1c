"""The title, main text and description of a page, read by trafilatura in a process of its own.

``app.imports.fetch.extract_article`` runs ``python -m app.imports.extraction URL`` with the page
on stdin and kills it at a time limit: trafilatura can take a minute over a large or contrived
page, and a thread cannot be stopped. The fields come back as JSON on stdout. Only trafilatura
is imported here, so that the process starts quickly.
"""

import json
import sys

import trafilatura


def extract(url: str, content: bytes) -> dict[str, str | None]:
    """The page's fields as trafilatura reads them (menus and other boilerplate left out)."""
    document = trafilatura.bare_extraction(
        content, url=url, with_metadata=True, include_comments=False
    )
    if document is None or isinstance(document, dict):
        return {}
    return {"title": document.title, "text": document.text, "summary": document.description}


if __name__ == "__main__":
    json.dump(extract(sys.argv[1], sys.stdin.buffer.read()), sys.stdout)
