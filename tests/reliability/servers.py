"""A Redis and a PostgreSQL of the test's own, on free ports in a temporary directory.

The fault tests stop and restart these, never the machine's shared servers. PostgreSQL comes
from Debian's packages (``/usr/lib/postgresql/<version>/bin``): ``initdb`` and ``pg_ctl`` run as
the ``postgres`` system user when the tests run as root (PostgreSQL refuses root), and the new
cluster gets a copy of the test database (``pg_dump`` | ``psql``: seconds, where migrating a
fresh database would take minutes).
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from bench.pages import free_port


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class OwnRedis:
    """``redis-server`` on a free port without persistence; ``stop()``/``start()`` at will."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None

    def keys(self) -> int:
        return redis.Redis(port=self.port).dbsize()


class OwnPostgres:
    """A PostgreSQL cluster of its own (trust auth, fsync off) on a free port."""

    def __init__(self, workdir: Path):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise RuntimeError(
                "Debian's PostgreSQL binaries are missing: apt-get install postgresql"
            )
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        # Its own directory under /tmp (pytest's tmp_path is private to root, and PostgreSQL
        # runs as the postgres user); removed by ``remove()``.
        self.dir = Path(tempfile.mkdtemp(prefix="agora-pg-"))
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.dir / "data"),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.dir / "data"),
                    "-o",
                    options,
                    "-l",
                    str(self.dir / "log"),
                    "-w",
                    "-t",
                    "120",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.dir / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    "120",
                    "stop",
                ]
            ),
            capture_output=True,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def copy_database(self, *, source_url: str, name: str) -> None:
        """Create ``name`` here as a copy (schema and rows) of the database at ``source_url``."""
        subprocess.run(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            capture_output=True,
        )
        dump = subprocess.run(
            [str(self.bin / "pg_dump"), "--no-owner", "--no-privileges", source_url],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url(name)],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )
