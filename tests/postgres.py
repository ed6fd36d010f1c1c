"""The test suite on PostgreSQL (``--database=postgresql``, ``GIVEFIRST_TEST_DATABASE=postgresql``).

A throwaway cluster is made with the server's own tools (``initdb`` + ``pg_ctl``, Debian's
``postgresql`` package) in a temporary folder on a free port, as an unprivileged user when the
tests run as root (PostgreSQL refuses to run as root), unless ``GIVEFIRST_TEST_DATABASE_URL``
names a server to use instead (its user must be allowed to create databases).

Each data folder a test uses gets a database of its own, the way it gets its own SQLite file on
the default set-up: cloned (``CREATE DATABASE … TEMPLATE``, a file copy) from a template that the
migrations brought to the head once, so that every test starts on an empty, migrated schema.
"""

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL

from app.db import create_db_engine, migrate

TEMPLATE = "givefirst_template"
UNPRIVILEGED_USER = "nobody"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_bin(tool: str) -> str:
    """``tool`` from the newest PostgreSQL installed (Debian keeps them off the PATH)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=_version)
    if found:
        return found[-1]
    on_path = shutil.which(tool)
    if on_path is None:
        raise RuntimeError(
            f"PostgreSQL's {tool} is not installed (apt-get install postgresql), and "
            "GIVEFIRST_TEST_DATABASE_URL names no server."
        )
    return on_path


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


class LocalCluster:
    """A PostgreSQL cluster of its own in a temporary folder, stopped and removed by ``stop``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="givefirst-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:  # the server refuses root: run it as an unprivileged user
            shutil.chown(self.folder, user=UNPRIVILEGED_USER)
            self.folder.chmod(0o700)
            self._as = ["runuser", "-u", UNPRIVILEGED_USER, "--"]

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [*self._as, *command], cwd=self.folder, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stdout}{result.stderr}")

    def start(self) -> URL:
        self._run(
            _server_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        # Durability is not what these tests are about: no fsync makes a CREATE DATABASE per test
        # cheap. Connections: a few per app, and a test may run a few apps and subprocesses.
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            _server_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        )
        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )

    def stop(self) -> None:
        try:
            self._run(_server_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class Databases:
    """One database per data folder on a PostgreSQL server, cloned from a migrated template."""

    def __init__(self, server: URL) -> None:
        self.server = server
        self._admin = create_engine(server, isolation_level="AUTOCOMMIT")
        self._made: set[str] = set()
        self._drop(TEMPLATE)
        self._admin_sql(f'CREATE DATABASE "{TEMPLATE}"')
        template = create_db_engine(self._url(TEMPLATE))
        try:
            migrate(template)
        finally:
            template.dispose()

    def _url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def _admin_sql(self, sql: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(sql))

    def _drop(self, name: str) -> None:
        self._admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @staticmethod
    def name_for(data_dir: Path) -> str:
        digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:24]
        return f"givefirst_{digest}"

    def url_for(self, data_dir: Path) -> str:
        """The database of ``data_dir``: made (empty, migrated) the first time it is asked for."""
        name = self.name_for(data_dir)
        if name not in self._made:
            self._drop(name)
            self._admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
            self._made.add(name)
        return self._url(name)

    def copy(self, source: Path, target: Path) -> None:
        """``target``'s database becomes a copy of ``source``'s (as ``cp -a`` copies the SQLite
        file of a data folder). No connection may be open on ``source``'s database."""
        name = self.name_for(target)
        self._drop(name)
        self._admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.name_for(source)}"')
        self._made.add(name)

    def close(self) -> None:
        for name in self._made:
            self._drop(name)
        self._drop(TEMPLATE)
        self._admin.dispose()


def server_url_from_environment() -> URL | None:
    """``GIVEFIRST_TEST_DATABASE_URL`` (a server to use instead of a cluster of our own)."""
    given = os.environ.get("GIVEFIRST_TEST_DATABASE_URL")
    if not given:
        return None
    url = make_url(given)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def wait_for(url: URL, seconds: float = 30) -> None:
    """Until the server at ``url`` takes connections."""
    engine = create_engine(url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            try:
                with engine.connect():
                    return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        engine.dispose()
