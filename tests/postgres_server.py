"""A throwaway real PostgreSQL 15 server (the Debian binaries on this machine), reachable over a Unix socket only.

    with postgres_server(settings={"max_connections": "200"}) as server:
        subprocess.run(["psql", "-h", server.socket_dir, "-U", "postgres", "-c", "select 1"], check=True)
        server.log.read_text()

Not under pytest's tmp_path: its root is private to the test user, and the server (the packaged `postgres` user when
the tests run as root, since PostgreSQL refuses to run as root) must reach its files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_server_user(command: list[object]) -> list[object]:
    """PostgreSQL refuses to run as root; as root, run it as the packaged `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class PostgresServer:
    work: Path
    socket_dir: Path
    log: Path
    superuser: str


@contextmanager
def postgres_server(
    socket_subdir: str = "",
    *,
    superuser: str = "postgres",
    password: str | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[PostgresServer]:
    """Start a server whose only listener is the socket in `<work>/<socket_subdir>`; trust auth, or scram-sha-256
    with `password` for `superuser`. `settings`: extra `-c name=value` server settings."""
    work = Path(tempfile.mkdtemp(prefix="pg-"))
    socket_dir, data, log = work / socket_subdir, work / "data", work / "server.log"
    socket_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        for path in (work, *socket_dir.relative_to(work).parents, socket_dir.relative_to(work)):
            shutil.chown(work / path, "postgres")
    run = partial(subprocess.run, check=True, capture_output=True, timeout=120)
    pg_ctl = [PG_BIN / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60"]
    initdb = [PG_BIN / "initdb", "-D", data, "-U", superuser, "--no-sync"]
    if password is None:
        initdb.append("--auth=trust")
    else:
        password_file = work / "pw"
        password_file.write_text(password)
        password_file.chmod(0o644)
        initdb += ["--auth=scram-sha-256", f"--pwfile={password_file}"]
    try:
        run(as_server_user(initdb))
        options = [f"-c {name}={value}" for name, value in (settings or {}).items()]
        options += ["-c listen_addresses=''", f"-c unix_socket_directories='{socket_dir}'", "-c logging_collector=off"]
        run(
            as_server_user(
                [PG_BIN / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", " ".join(options), "start"]
            )
        )
        try:
            yield PostgresServer(work=work, socket_dir=socket_dir, log=log, superuser=superuser)
        finally:
            subprocess.run(
                as_server_user([*pg_ctl, "-m", "fast", "stop"]),
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
