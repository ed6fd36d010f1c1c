"""Several processes on one database, for real: what replicas behind a load balancer and the
nightly batch beside them share (the daily list, the write turn, the rate limit).

The nightly tests run on both databases; the rate limit shared by two servers needs PostgreSQL
(two servers cannot share the embedded set-up's data folder, and there its count is per process).
"""

import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.models import Contact, DailyItem, DailyList, Suggestion
from app.runtime import open_database
from tests.conftest import copy_data_dir, database_url, make_settings, running_api
from tests.fixtures.due_network import TODAY, build_network
from tests.helpers import ROOT, command_env, create_key, givefirst_command, serving

WORKSPACES = ("north", "south", "west")
WAIT_S = 600


@pytest.fixture(scope="module")
def three_networks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("replicas") / "data"
    with running_api(data_dir) as api:
        for workspace in WORKSPACES:
            build_network(api, workspace)
    return data_dir


def _lists(data_dir: Path) -> dict[str, object]:
    """What the day's lists are made of: lists, items, distinct (list, contact), suggestions."""
    runtime = open_database(make_settings(data_dir))
    try:
        with session_scope(runtime.session_factory) as session:
            return {
                "lists": session.scalar(
                    select(func.count()).select_from(DailyList).where(DailyList.day == TODAY)
                ),
                "items": session.scalar(select(func.count()).select_from(DailyItem)),
                "distinct items": session.scalar(
                    select(func.count()).select_from(
                        select(DailyItem.daily_list_id, DailyItem.contact_id).distinct().subquery()
                    )
                ),
                "suggestions": session.scalar(select(func.count()).select_from(Suggestion)),
            }
    finally:
        runtime.close()


def _nightly(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        givefirst_command("nightly"),
        env=command_env(data_dir),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_nightly_runs_at_once_build_each_list_once(
    three_networks: Path, tmp_path: Path
) -> None:
    alone, both = tmp_path / "alone", tmp_path / "both"
    copy_data_dir(three_networks, alone)
    copy_data_dir(three_networks, both)
    reference = _nightly(alone)
    assert reference.wait(WAIT_S) == 0, reference.communicate()[1]
    expected = _lists(alone)
    assert expected["lists"] == len(WORKSPACES)

    runs = [_nightly(both), _nightly(both)]
    results = [(run.wait(WAIT_S), run.communicate()[1]) for run in runs]
    for code, stderr in results:
        assert code == 0, stderr
        assert "Traceback" not in stderr and "not built" not in stderr, stderr
        if database_url(both) is not None:
            # On PostgreSQL the second run waited for the first's list (the workspace's advisory
            # lock), instead of building one beside it and meeting it at commit ("the list met
            # another write", tried again: what SQLite, with no such lock, does).
            assert "met another write" not in stderr, stderr
    assert _lists(both) == expected


def test_the_nightly_beside_a_serving_process_loses_no_write(
    three_networks: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    copy_data_dir(three_networks, data_dir)
    key, _ = create_key(data_dir, WORKSPACES[0])
    headers = {"Authorization": f"Bearer {key}"}
    stored: list[int] = []
    refused: list[str] = []
    done = threading.Event()
    with serving(data_dir) as server:

        def write_until_done() -> None:
            number = 0
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
                while not done.is_set() or number < 5:
                    number += 1
                    response = client.post("/contacts", json={"name": f"Added {number}"})
                    if response.status_code != 201:
                        refused.append(response.text)
                        return
                    stored.append(response.json()["id"])

        writer = threading.Thread(target=write_until_done)
        writer.start()
        run = _nightly(data_dir)
        try:
            code = run.wait(WAIT_S)
        finally:
            done.set()
            writer.join(WAIT_S)
        stderr = run.communicate()[1]
        assert code == 0, stderr
        assert "Traceback" not in stderr
        # The server reads the list the batch built, and builds no other.
        daily = httpx.get(f"{server.base_url}/daily", headers=headers, timeout=120)
        assert daily.status_code == 200, daily.text
    assert not refused and len(stored) >= 5
    runtime = open_database(make_settings(data_dir))
    try:
        with session_scope(runtime.session_factory) as session:
            ids = set(session.scalars(select(Contact.id).where(Contact.id.in_(stored))))
    finally:
        runtime.close()
    assert ids == set(stored)  # every acknowledged write is there
    assert _lists(data_dir)["lists"] == len(WORKSPACES)


@pytest.mark.skipif(
    "config.getoption('--database') != 'postgresql'",
    reason="two servers share a count only on PostgreSQL (on SQLite the count is per process)",
)
def test_two_servers_count_one_keys_rate_limit_together(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    key, _ = create_key(first, "acme")
    shared = database_url(first)
    assert shared is not None
    with (
        serving(first, rate_limit="12/minute") as one,
        serving(second, rate_limit="12/minute", database_url=shared) as two,
    ):

        def ask(base_url: str) -> list[int]:
            with httpx.Client(base_url=base_url, timeout=120) as client:
                headers = {"Authorization": f"Bearer {key}"}
                return [client.get("/contacts", headers=headers).status_code for _ in range(10)]

        with ThreadPoolExecutor(2) as pool:
            answers = [s for codes in pool.map(ask, [one.base_url, two.base_url]) for s in codes]
    assert sorted(answers) == [200] * 12 + [429] * 8
