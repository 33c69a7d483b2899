"""The fault tools of `make chaos` (bench/chaos/faults.py): the 503 proxy forwards what it does not refuse, unchanged,
and refuses exactly the requests its plan picks; our own Redis keeps its queue over a clean restart and loses it
when killed."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.chaos.faults import FailurePlan, FaultLog, FaultProxy, RedisServer
from devtools.instances import free_port


class Echo(BaseHTTPRequestHandler):
    """An upstream that answers what it got: 409 on /duplicate/, else 200, with a header of its own."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        return

    def do_POST(self):  # noqa: N802 - BaseHTTPRequestHandler's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = json.dumps(
            {"path": self.path, "body": body.decode(), "message_id": self.headers.get("X-Message-Id")}
        ).encode()
        self.send_response(409 if self.path == "/duplicate/" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "echo")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def post(port: int, path: str = "/transfers/inbound/", body: bytes = b"{}", message_id: str = "m-1"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", "X-Message-Id": message_id}
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_every_fifth_request_is_refused_and_the_others_are_forwarded(upstream):
    with FaultProxy(upstream, FailurePlan(5)) as proxy:
        statuses = [post(proxy.port, body=f'{{"n": {i}}}'.encode())[0] for i in range(1, 13)]
    assert statuses == [200, 200, 200, 200, 503] * 2 + [200, 200]
    assert (proxy.counts.requests, proxy.counts.refused, proxy.counts.forwarded) == (12, 2, 10)
    assert proxy.counts.statuses == {200: 10}


def test_forwarding_keeps_path_body_headers_and_status(upstream):
    with FaultProxy(upstream, FailurePlan(1000)) as proxy:
        status, headers, body = post(proxy.port, "/duplicate/", b'{"sealed": "bytes"}', message_id="abc-123")
    assert status == 409
    assert headers["X-Upstream"] == "echo"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"path": "/duplicate/", "body": '{"sealed": "bytes"}', "message_id": "abc-123"}


def test_the_refusal_is_a_retryable_json_503(upstream):
    with FaultProxy(upstream, FailurePlan(1)) as proxy:
        status, headers, body = post(proxy.port)
    assert status == 503
    assert json.loads(body)["error"] == "chaos_unavailable"
    assert proxy.counts.forwarded == 0


def test_an_unreachable_upstream_is_a_502():
    with FaultProxy(free_port(), FailurePlan(1000)) as proxy:
        status, _, body = post(proxy.port)
    assert status == 502
    assert json.loads(body)["error"] == "chaos_upstream"
    assert proxy.counts.upstream_errors == 1


def test_seeded_random_refusals_repeat_with_the_seed_at_about_the_ratio():
    def draws(seed: int) -> list[bool]:
        plan = FailurePlan(5, seed=seed)
        return [plan.next_fails() for _ in range(2000)]

    first = draws(7)
    assert first == draws(7)
    assert first != draws(8)
    assert 300 < sum(first) < 500  # 1/5 of 2000 = 400


def test_a_plan_needs_a_positive_period():
    with pytest.raises(ValueError, match="at least 1"):
        FailurePlan(0)


def test_the_fault_log_records_each_fault_with_its_times():
    faults = FaultLog()
    with faults.fault("worker_kill", "pid 1"):
        pass
    with faults.fault("partner_offline", "B"):
        pass
    assert [f.kind for f in faults.faults] == ["worker_kill", "partner_offline"]
    assert faults.last().kind == "partner_offline"
    assert faults.last("worker_kill").detail == "pid 1"
    assert faults.count("worker_kill") == 1
    assert all(f.ended >= f.started for f in faults.faults)


@pytest.mark.skipif(not RedisServer.available(), reason="redis-server is not installed")
def test_our_redis_keeps_its_queue_over_a_clean_restart_and_loses_it_when_killed(tmp_path):
    import redis

    server = RedisServer(free_port(), tmp_path / "redis")
    with server:
        client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=5)
        client.rpush("celery", "one", "two")
        first = server.proc.pid
        server.restart(lose_queue=False)
        assert server.proc.pid != first
        assert client.llen("celery") == 2
        server.restart(lose_queue=True)
        assert client.llen("celery") == 0
        assert len(server.pids) == 3
    assert not server.alive()
    assert not [pid for pid in server.pids if Path(f"/proc/{pid}").exists()]
