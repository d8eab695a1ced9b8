"""A throwaway PostgreSQL server on 127.0.0.1 for benchmarks (as the test suite starts one)."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

PG_CTL = Path(__file__).parents[1] / "tests" / "support" / "pg_ctl"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgresql(dbname: str = "lms_bench"):
    """Yields a SQLAlchemy URL of a fresh database on a private, fast (fsync off) cluster."""
    base = Path(tempfile.mkdtemp(prefix="lms-bench-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    data, port = base / "data", _free_port()
    run = lambda *args: subprocess.run([str(PG_CTL), *args], check=True, capture_output=True)  # noqa: E731
    run("initdb", "-D", str(data), "-o", "--auth=trust --username=postgres")
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base} -c fsync=off"
    )
    run("start", "-w", "-D", str(data), "-l", str(base / "log"), "-o", options)
    try:
        import psycopg

        for _ in range(50):
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
                ) as conn:
                    conn.execute(f'CREATE DATABASE "{dbname}"')
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{dbname}"
    finally:
        run("stop", "-D", str(data), "-m", "fast")
        shutil.rmtree(base, ignore_errors=True)
