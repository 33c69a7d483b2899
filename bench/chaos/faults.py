"""Fault injection for the chaos harnesses: a proxy that answers 503 to some requests, a Redis server of our own that
can be restarted (keeping or losing its queue), and a log of the faults with their times.

Everything listens on 127.0.0.1 only, and every process started here is stopped here by its process id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STOP_TIMEOUT = 20.0
FORWARD_TIMEOUT = 60.0
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"})


# --- The fault proxy ------------------------------------------------------------------------------------------------


class FailurePlan:
    """Which requests the proxy refuses: every `every`-th one (deterministic: the 5th, 10th, … request), or, with a
    `seed`, each one with probability 1/`every` drawn from a generator seeded by it. Thread-safe."""

    def __init__(self, every: int, seed: int | None = None) -> None:
        if every < 1:
            raise ValueError("every must be at least 1")
        self.every = every
        self.seed = seed
        self._rng = random.Random(seed) if seed is not None else None
        self._count = 0
        self._lock = threading.Lock()

    def describe(self) -> str:
        if self._rng is None:
            return f"every {self.every}th request answered 503 (deterministic)"
        return f"each request answered 503 with probability 1/{self.every} (seeded random, seed {self.seed})"

    def next_fails(self) -> bool:
        with self._lock:
            self._count += 1
            if self._rng is None:
                return self._count % self.every == 0
            return self._rng.random() < 1 / self.every


@dataclass
class ProxyCounts:
    requests: int = 0
    refused: int = 0  # answered 503 by the proxy
    forwarded: int = 0  # passed on and answered by the upstream
    upstream_errors: int = 0  # passed on, but the upstream could not be reached (answered 502)
    client_gone: int = 0  # the caller hung up before the answer was written
    statuses: dict[int, int] = field(default_factory=dict)  # the upstream's answers


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of one upstream (host:port on loopback): it answers 503 to the requests
    its `FailurePlan` picks and forwards the others (method, path, body, the end-to-end headers) and returns the
    upstream's answer as it came. Runs in threads of the calling process; `stop()` closes it."""

    def __init__(self, upstream_port: int, plan: FailurePlan, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.plan = plan
        self.counts = ProxyCounts()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _count(self, name: str, status: int | None = None) -> None:
        with self._lock:
            setattr(self.counts, name, getattr(self.counts, name) + 1)
            if status is not None:
                self.counts.statuses[status] = self.counts.statuses.get(status, 0) + 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                return

            def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
                self.close_connection = True
                try:
                    self.send_response(status)
                    for name, value in headers:
                        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client went away (a worker killed mid-request): nothing to answer
                    proxy._count("client_gone")

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy._count("requests")
                if proxy.plan.next_fails():
                    proxy._count("refused")
                    refusal = b'{"error": "chaos_unavailable", "message": "\\u969c\\u5bb3\\u6ce8\\u5165"}'
                    self._answer(503, refusal, [("Content-Type", "application/json"), ("Retry-After", "1")])
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                connection = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=FORWARD_TIMEOUT)
                try:
                    connection.request(self.command, self.path, body=body or None, headers=headers)
                    response = connection.getresponse()
                    answer = response.read()
                    status, answer_headers = response.status, response.getheaders()
                except OSError as exc:
                    proxy._count("upstream_errors")
                    message = f'{{"error": "chaos_upstream", "message": "{type(exc).__name__}"}}'.encode()
                    self._answer(502, message, [("Content-Type", "application/json")])
                    return
                finally:
                    connection.close()
                proxy._count("forwarded", status)
                self._answer(status, answer, answer_headers)

            do_GET = _relay  # noqa: N815 - BaseHTTPRequestHandler's naming
            do_POST = _relay  # noqa: N815
            do_PUT = _relay  # noqa: N815
            do_DELETE = _relay  # noqa: N815

        return Handler

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- A Redis server of our own --------------------------------------------------------------------------------------


class RedisServer:
    """`redis-server` on 127.0.0.1:`port` with its files in `folder`, no persistence of its own (--save "",
    --appendonly no), started and stopped by its pid. `restart(lose_queue=False)` is a clean restart: SHUTDOWN SAVE
    writes the dump and the new server loads it, so queued messages survive. `restart(lose_queue=True)` kills it
    (SIGKILL) and deletes any dump: the new server starts empty, as a Redis without persistence after a crash."""

    def __init__(self, port: int, folder: Path, binary: str = "redis-server") -> None:
        self.port = port
        self.folder = folder
        self.binary = binary
        self.proc: subprocess.Popen[bytes] | None = None
        self.pids: list[int] = []  # every pid we started, in order

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    @property
    def dump(self) -> Path:
        return self.folder / "dump.rdb"

    @staticmethod
    def available(binary: str = "redis-server") -> bool:
        return shutil.which(binary) is not None

    def start(self, timeout: float = 20.0) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        argv = [shutil.which(self.binary) or self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.folder), "--dbfilename", "dump.rdb"]
        argv += ["--daemonize", "no", "--protected-mode", "yes", "--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self.pids.append(self.proc.pid)
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.proc.returncode}); see {self.folder / 'redis.log'}")
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"redis-server on port {self.port} not ready after {timeout:.0f} s")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def keys(self, db: int = 0) -> int:
        import redis

        return int(redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=5).dbsize())

    def kill(self) -> None:
        """SIGKILL our server, by its pid; wait for it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)

    def shutdown_saving(self, timeout: float = STOP_TIMEOUT) -> None:
        """SHUTDOWN SAVE: the dump is written, the server exits; SIGKILL if it has not after `timeout`."""
        assert self.proc is not None  # noqa: S101 - a programming error
        # A bare socket: redis-py would try to reconnect (for seconds) when the server closes the connection.
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(b"SHUTDOWN SAVE\r\n")
            while sock.recv(1024):  # the server closes the connection as it exits
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def stop(self) -> None:
        """Stop without saving (the end of a run): SIGTERM by pid, a bounded wait, then SIGKILL."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self, lose_queue: bool, down: float = 0.0) -> None:
        """Stop (cleanly, saving; or killed, losing everything), stay down `down` seconds, start again."""
        if lose_queue:
            self.kill()
            self.dump.unlink(missing_ok=True)
        else:
            self.shutdown_saving()
        time.sleep(down)
        self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- The log of faults ----------------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str  # worker_kill, redis_restart, redis_restart_queue_lost, partner_offline
    detail: str
    started: float  # time.time()
    ended: float  # the system whole again (process restarted, server back)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "detail": self.detail,
            "started_at": _iso(self.started),
            "ended_at": _iso(self.ended),
            "seconds": round(self.ended - self.started, 2),
        }


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="milliseconds")


class FaultLog:
    """The faults injected, in order, each printed on stderr with its times as it ends."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    @contextlib.contextmanager
    def fault(self, kind: str, detail: str):  # noqa: ANN201 - a context manager
        started = time.time()
        print(f"[{_iso(started)}] fault {kind}: {detail} …", file=sys.stderr, flush=True)
        yield
        ended = time.time()
        self.faults.append(Fault(kind, detail, started, ended))
        print(f"[{_iso(ended)}] fault {kind} over ({ended - started:.1f} s)", file=sys.stderr, flush=True)

    def last(self, kind: str | None = None) -> Fault | None:
        chosen = [f for f in self.faults if kind is None or f.kind == kind]
        return chosen[-1] if chosen else None

    def count(self, kind: str) -> int:
        return sum(1 for f in self.faults if f.kind == kind)
