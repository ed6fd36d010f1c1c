"""An example for every JSON request body, as Swagger UI's "Try it out" fills it in.

Each one succeeds when sent unchanged (tests/test_docs.py sends them all against a real app).
They are put on the request bodies of the OpenAPI document (the media type's ``examples``, as
``Body(openapi_examples=...)`` would), keyed by the body's schema, so that a schema used by two
operations has one example. A day to come (a snooze) is counted from the day the document is
built; a past day is fixed, and stays in the past.
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

Json = dict[str, Any]

_PAST_DAY = "2026-09-14"
_SIGNATURE = "Best,\nSam Rivera\nPeople Partner, Northwind"


def _month_ahead(today: date) -> str:
    return (today + timedelta(days=30)).isoformat()


# Schema name -> (summary, the body for ``today``).
REQUEST_EXAMPLES: dict[str, tuple[str, Callable[[date], Json]]] = {
    "WorkspaceUpdate": (
        "Set the default tier, a cadence and the signature",
        lambda today: {"default_tier": "B", "cadence_a_days": 60, "signature": _SIGNATURE},
    ),
    "ContactCreate": (
        "A contact with a pain point and an expertise",
        lambda today: {
            "name": "Dana Reyes",
            "email": "dana.reyes@example.com",
            "company": "Northwind",
            "title": "SVP HR",
            "field": "Human resources",
            "tier": "A",
            "pain_points": [
                "Finding the right firm to run our employee engagement survey",
                {"text": "Our new managers dread giving feedback", "noted_on": _PAST_DAY},
            ],
            "expertise": ["Compensation benchmarking"],
            "notes": "Met at the HR Tech conference.",
            "linkedin_url": "https://www.linkedin.com/in/dana-reyes",
            "phones": ["+1 555 0100"],
            "last_contacted_on": _PAST_DAY,
        },
    ),
    "ContactUpdate": (
        "A new title and tier, and the last time you were in touch",
        lambda today: {
            "title": "Chief People Officer",
            "tier": "A",
            "last_contacted_on": _PAST_DAY,
        },
    ),
    "SnoozeRequest": ("Back in a month", lambda today: {"until": _month_ahead(today)}),
    "TouchCreate": (
        "A call on a past day",
        lambda today: {
            "kind": "call",
            "happened_on": _PAST_DAY,
            "subject": "Catch-up on their engagement survey",
        },
    ),
    "PainPointCreate": (
        "A pain point heard on a day",
        lambda today: {
            "text": "Rolling out a new performance review process",
            "noted_on": _PAST_DAY,
        },
    ),
    "PainPointUpdate": (
        "Reword a pain point",
        lambda today: {"text": "Rolling out a new performance review process by March"},
    ),
    "ArticleCreate": (
        "An article with its text",
        lambda today: {
            "title": "How to choose an engagement survey vendor",
            "url": "https://example.org/engagement-survey-vendors",
            "summary": "What to ask survey firms before you sign: benchmarks, confidentiality, "
            "analytics and pricing.",
            "text": "Before you sign with an engagement survey firm, ask how they benchmark "
            "results, how they keep answers confidential and what their analytics show.",
            "tags": ["hr", "surveys"],
            "saved_on": _PAST_DAY,
        },
    ),
    "ArticleUpdate": (
        "New tags and summary",
        lambda today: {
            "summary": "Questions to ask an engagement survey firm before signing.",
            "tags": ["hr", "surveys", "vendors"],
        },
    ),
    "GiveCreate": (
        "An article you sent",
        lambda today: {
            "description": "Sent the SHRM salary guide",
            "kind": "article",
            "given_on": _PAST_DAY,
        },
    ),
    "AskCreate": (
        "An introduction you asked for",
        lambda today: {
            "description": "Asked for an introduction to their CFO",
            "asked_on": _PAST_DAY,
        },
    ),
    "DismissRequest": (
        "Not now: may come back in a month",
        lambda today: {"reason": "bad_timing", "until": _month_ahead(today)},
    ),
    "RecipientChoice": (
        "Suggest the article to two of its recipients",
        lambda today: {"contact_ids": [3, 4]},
    ),
    "ArticleFromUrl": (
        "A public web page",
        lambda today: {"url": "https://en.wikipedia.org/wiki/Employee_engagement", "tags": ["hr"]},
    ),
    "FeedCreate": (
        "A public feed (or a page that links one)",
        lambda today: {"url": "https://hbr.org/", "tags": ["management"]},
    ),
}


def document_examples(spec: Json, today: date) -> Json:
    """``spec`` (changed in place) with an example on every JSON request body that has one."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            name = media.get("schema", {}).get("$ref", "").rpartition("/")[2]
            if name in REQUEST_EXAMPLES:
                summary, body = REQUEST_EXAMPLES[name]
                media["examples"] = {"example": {"summary": summary, "value": body(today)}}
    return spec
