"""Limits that keep one caller from taking the service down: requests per key, body sizes."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import auth, error_text, get_json, make_settings, running_api


def test_past_the_rate_limit_a_key_gets_429_with_retry_after(data_dir: Path) -> None:
    with running_api(data_dir, rate_limit="3/minute") as api:
        key, other = api.new_key("acme"), api.new_key("acme")
        for _ in range(3):
            assert api.client.get("/contacts", headers=auth(key)).status_code == 200

        refused = api.client.post("/contacts", json={"name": "Refused"}, headers=auth(key))

        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "3/minute" in error_text(refused)
        assert f"retry in {refused.headers['retry-after']} s" in error_text(refused)
        # Nothing was written, and the limit is per key: another key goes on.
        listed = get_json(api.client, "/contacts", auth(other))
        assert listed["total"] == 0
        # Requests without a valid key are refused as before (401), not counted as the key's.
        assert api.client.get("/contacts", headers=auth("gf_wrong")).status_code == 401
        assert api.client.get("/health").status_code == 200


def test_without_the_setting_there_is_no_limit() -> None:
    assert make_settings(Path("unused")).rate_limit is None
    assert make_settings(Path("unused"), rate_limit="off").rate_limit is None


@pytest.mark.parametrize("value", ["many", "120/fortnight", "-5/minute"])
def test_a_rate_limit_that_is_no_rate_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit"):
        make_settings(Path("unused"), rate_limit=value)
