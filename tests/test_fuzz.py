"""The API fuzzed from its own OpenAPI document with schemathesis: for every operation, valid and
invalid requests made from the schemas, sent with a valid key. No answer is a server error, and
every answer has a documented status code and matches its documented schema.

The number of examples is bounded so that the whole run stays within a few minutes on a small
machine; ``GIVEFIRST_FUZZ_EXAMPLES`` raises it for a deeper run.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckFunction, checks

from app.main import create_app
from tests.conftest import Headers, auth, make_settings
from tests.helpers import Server, create_key, serving

EXAMPLES = int(os.environ.get("GIVEFIRST_FUZZ_EXAMPLES", "15"))


def excluded_checks(case: Case) -> list[CheckFunction]:
    # Invalid values are refused (tests/test_bad_input.py); what this check would add here is
    # unknown query parameters, which are ignored, and a missing key header, which the test
    # sends back on every request.
    excluded = [checks.negative_data_rejection]
    # A schema-valid request may well be a 422: whether an upload is a readable file or a URL a
    # page that can be fetched, the schema cannot say; and text is stripped before its length is
    # checked (a name of whitespace alone is refused on purpose), which JSON Schema cannot state
    # in Python's sense of whitespace.
    excluded.append(checks.positive_data_acceptance)
    if case.path in ("/articles/from-url", "/feeds/poll"):
        # PATCH /articles/from-url is PATCH /articles/{article_id} with an id that is not a
        # number: a 422 naming article_id, not a 405 (and Allow lists that route's methods);
        # GET /feeds/poll is GET /feeds/{feed_id} likewise.
        excluded += [checks.unsupported_method, checks.allow_header_conformance]
    return excluded


# The document only: building the app runs nothing (no lifespan, no data folder).
schema = schemathesis.openapi.from_dict(create_app(make_settings(Path("unused"))).openapi())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Headers]]:
    """A real ``givefirst serve`` on a fresh data folder, and a key of a workspace in it."""
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    key, _ = create_key(data_dir, "fuzz")
    # Save by URL may be handed any public address: keep each attempt short.
    with serving(data_dir, fetch_timeout_seconds="1") as running:
        yield running, auth(key)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_as_documented(
    case: Case, server: tuple[Server, Headers]
) -> None:
    running, headers = server
    try:
        case.call_and_validate(
            base_url=running.base_url,
            headers=headers,
            timeout=60,
            excluded_checks=excluded_checks(case),
        )
    except BaseException:
        # The server's log says why: its lines other than uvicorn's access log.
        print("\n".join(line for line in running.lines if not line.startswith("INFO:")))
        raise
