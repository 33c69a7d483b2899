"""A PostgreSQL cluster of our own for the chaos harness: initdb into a temporary folder owned by `postgres`, started
on a free loopback port (and a socket folder inside that temporary folder), stopped `-m fast` or `-m immediate` and
started again at will, and deleted at the end. The machine's own PostgreSQL server is never touched.

We run as root: every pg_ctl / initdb call goes through `runuser -u postgres --`. Each call is bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path(os.environ.get("CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
OWNER = "postgres"
COMMAND_TIMEOUT = 120.0


class ClusterError(RuntimeError):
    pass


def available() -> bool:
    """initdb and pg_ctl exist, the `postgres` user exists and we may switch to it (root with runuser)."""
    try:
        pwd.getpwnam(OWNER)
    except KeyError:
        return False
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists() and shutil.which("runuser") is not None


class Cluster:
    """One cluster in `folder` (created by `init`, owned by postgres): data in folder/data, socket and log beside it.
    `start`, `stop(mode)`, `ready()`, `url(dbname)`; `destroy()` stops it (immediate) and deletes the folder."""

    def __init__(self, port: int, folder: Path | None = None) -> None:
        self.port = port
        self.folder = folder or Path(tempfile.mkdtemp(prefix="chaos-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.log = self.folder / "postgres.log"
        self.initialised = False

    # --- running the tools as postgres --------------------------------------------------------------------------

    def _run(self, *argv: str, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", OWNER, "--", *argv]
        result = subprocess.run(  # noqa: S603 - fixed argv of PostgreSQL's tools
            command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
        return result

    def _checked(self, *argv: str, timeout: float = COMMAND_TIMEOUT) -> str:
        result = self._run(*argv, timeout=timeout)
        if result.returncode != 0:
            raise ClusterError(f"{' '.join(argv[:2])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    # --- life cycle ---------------------------------------------------------------------------------------------

    def init(self) -> Cluster:
        owner = pwd.getpwnam(OWNER)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        for path in (self.folder, self.socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        os.chmod(self.folder, 0o755)  # noqa: S103 - the harness (root) reads the log; data/ itself is 0700
        self._checked(
            str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust", "-U", OWNER, "--no-sync", "-E", "UTF8"
        )
        self.initialised = True
        return self

    @property
    def options(self) -> str:
        # Loopback only, our own socket folder; durability as in production (fsync, synchronous_commit on): the
        # harness checks that nothing committed is lost when the server is killed.
        return (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c max_connections=60 "
            "-c shared_buffers=64MB"
        )

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait until it accepts connections; returns the seconds it took."""
        started = time.monotonic()
        self._checked(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            self.options,
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 10,
        )
        deadline = started + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise ClusterError(f"the cluster on port {self.port} did not accept connections in {timeout:.0f} s")
            time.sleep(0.1)
        return time.monotonic() - started

    def stop(self, mode: str = "fast", timeout: float = 60.0) -> None:
        """pg_ctl stop -m fast|immediate (immediate: every backend killed at once, crash recovery at the next
        start — as a server that died)."""
        if not self.initialised:
            return
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", str(int(timeout)), "stop")

    def running(self) -> bool:
        if not self.initialised:
            return False
        return self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status", timeout=20).returncode == 0

    def ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def url(self, dbname: str) -> str:
        return f"postgres://{OWNER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop (immediate) whatever runs and delete the folder."""
        with contextlib.suppress(ClusterError, subprocess.TimeoutExpired, OSError):
            if self.initialised and self.running():
                self.stop("immediate")
        self._kill_postmaster()
        shutil.rmtree(self.folder, ignore_errors=True)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _kill_postmaster(self) -> None:
        """Should pg_ctl have failed to stop it: SIGKILL the postmaster of our own data folder, by its pid."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return
        if str(self.data).encode() in cmdline:  # that pid is still our postmaster, not a reused number
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def cluster(port: int) -> Iterator[Cluster]:
    """A new cluster, initialised and started; stopped and deleted on the way out, whatever happens."""
    own = Cluster(port)
    try:
        own.init()
        own.start()
        yield own
    finally:
        own.destroy()
