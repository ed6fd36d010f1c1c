"""Concurrency: 32 clients mixing reads and writes against a real ``givefirst serve``; no
request fails, no acknowledged write is lost, and the index agrees with the records after."""

from pathlib import Path

from scripts.bench_load import run_load
from tests.helpers import assert_index_matches_records, create_key, serving


def test_32_concurrent_clients_get_no_errors_and_lose_no_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key, _ = create_key(data_dir, "acme")
    with serving(data_dir) as server:
        result = run_load(server.base_url, key, clients=32, seconds=8)

    assert not result.errors, result.errors[:5]
    assert not result.lost, result.lost[:5]
    assert result.writes > 0 and result.requests > result.writes, result.summary()
    assert assert_index_matches_records(data_dir) >= len(result.contacts)
