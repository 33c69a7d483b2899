"""Delivery under faults, with real processes on loopback (issue 4's acceptance): ward A (新宿区 131041) with its
Celery worker (and beat, the sweeper), ward B (渋谷区 131130) as gunicorn, each with its own database (SQLite files,
or scratch PostgreSQL databases when DATABASE_URL names PostgreSQL) and broker (filesystem folders, or Redis
database numbers of their own when CELERY_BROKER_URL names Redis). The processes are started here, not through
run_all (whose supervisor stops everything when one child dies), and stopped here by their pids.

The changes at A are 転居 of residents whose 本籍 is in B (seed_dummy --cross-ward), one notice
(戸籍の附票記載事項通知) each. After every scenario: every notice arrived at B once (one inbound notice per message
id, and B's 附票 shows the new address in one row, with one J-LIS notice raised, per person), and A's outbox holds
nothing pending, sending, sent or failed.

a) A's broker is unreachable while the changes commit: the services succeed, nothing is queued; the sweeper (beat)
   then queues the notices on the working broker and the worker delivers them.
b) B hangs (SIGSTOP) and A's worker is killed (SIGKILL) while it holds a claimed notice; once B runs again a new
   worker delivers the rest and reclaims the dead worker's notice after its lease.
c) B is down for DOWN seconds while the changes are made; everything arrives within 60 s of B coming back.
d) The same message twice: a replay of a sealed envelope, and a notice whose acknowledgement was "lost" (put back
   to pending) — B answers 409 with a signed duplicate acknowledgement and applies nothing twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from devtools import instances
from devtools.dummy.cross_ward import cross_ward_people

A, B = "131041", "131130"
N = 20  # notices per scenario
DOWN = 10  # seconds B is down in c)
BACK_WITHIN = 60  # seconds after B is back by which everything must have arrived (c)
DELIVERY_TIMEOUT = 60
STEPS = "e2e.fault_steps"
OPEN_STATES = ("pending", "sending", "sent", "failed")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only"),
]


class Wards:
    """The two instances and the processes this test started."""

    def __init__(self, tmp: Path, env_a: dict[str, str], env_b: dict[str, str], port_b: int) -> None:
        self.tmp = tmp
        self.env_a = env_a
        self.env_b = env_b
        self.port_b = port_b
        self.web_b: instances.Process | None = None
        self.worker: instances.Process | None = None
        self.beat: instances.Process | None = None
        self.retired: list[instances.Process] = []
        people = cross_ward_people(A, B, 8 * N, seed=0)
        self.movable = [p.juminhyo_code for p in people if p.lives_in == A and p.honseki_in == B]
        self.sent = 0  # notices A has made so far (all to B)

    # --- processes ---

    def start_web_b(self) -> float:
        """B's gunicorn; returns the time (time.time()) it accepts connections."""
        self.web_b = instances.gunicorn(self.env_b, self.port_b, self.tmp / "web-b.log", name="web-b").start()
        return instances.wait_for_port(self.port_b, 60, self.web_b)

    def start_worker(self) -> None:
        self.worker = instances.celery_worker(self.env_a, self.tmp / "worker-a.log", name="worker-a").start()

    def ensure_beat(self) -> None:
        if self.beat is None or not self.beat.alive():
            self.beat = instances.celery_beat(self.env_a, self.tmp / "beat-a.log", name="beat-a").start()

    def stop_all(self) -> None:
        for process in (self.beat, self.worker, self.web_b, *self.retired):
            if process is not None:
                process.stop()

    def logs(self) -> str:
        parts = []
        for name in ("worker-a", "beat-a", "web-b"):
            path = self.tmp / f"{name}.log"
            if path.exists():
                parts.append(f"--- {name} ---\n" + path.read_text(encoding="utf-8", errors="replace")[-4000:])
        return "\n" + "\n".join(parts)

    # --- steps ---

    def take(self, n: int, block: int) -> dict[str, str]:
        """The next `n` residents of A whose 本籍 is in B, each with a new address in A."""
        codes, self.movable = self.movable[:n], self.movable[n:]
        assert len(codes) == n, "not enough cross-ward persons seeded"
        return {code: f"西新宿三丁目{block}番{i + 1}号" for i, code in enumerate(codes)}

    def at_a(self, code: str, env: dict[str, str] | None = None) -> dict:
        return instances.shell_step(env or self.env_a, STEPS, code, timeout=DELIVERY_TIMEOUT + 60, context=self.logs())

    def at_b(self, code: str) -> dict:
        return instances.shell_step(self.env_b, STEPS, code, timeout=DELIVERY_TIMEOUT + 60, context=self.logs())

    def move(self, moves: dict[str, str], env: dict[str, str] | None = None, prelude: str = "") -> dict:
        made = self.at_a(f"{prelude}move({moves!r})", env)
        notices = made["notices"]
        assert [(n["code"], n["kind"], n["receiver"]) for n in notices] == [
            (code, "fuhyo_items", B) for code in moves
        ], made
        self.sent += len(notices)
        return made

    def assert_delivered(self, moves: dict[str, str], ids: list[str], timeout: float = DELIVERY_TIMEOUT) -> dict:
        """Every notice acknowledged at A and stored and applied once at B; nothing open in A's outbox."""
        out = self.at_a(f"wait_acknowledged({ids!r}, {timeout})")
        states = {n["message_id"]: (n["state"], n["attempts"], n["error"]) for n in out["notices"]}
        assert all(state == "acknowledged" for state, _, _ in states.values()), (states, self.logs())
        assert not {s: c for s, c in out["states"].items() if s in OPEN_STATES}, out["states"]
        got = self.at_b(f"received({moves!r}, {ids!r})")
        assert got["per_message"] == dict.fromkeys(ids, 1), got
        assert got["states"] == {"applied": len(ids)}, got
        once = {"address_rows": 1, "current_is_new": True, "jlis_notices": 1, "inbound": 1}
        assert got["persons"] == dict.fromkeys(moves, once), got
        assert got["total_inbound"] == self.sent, got  # nothing else arrived, nothing twice
        return {"a": out, "b": got}

    def broken_broker_env(self) -> dict[str, str]:
        """A's settings with a broker that cannot take a message: a Redis port where nothing listens, or, for the
        filesystem broker, folders under a regular file (unwritable even for root)."""
        if self.env_a["CELERY_BROKER_URL"].startswith("redis://"):
            return dict(self.env_a, CELERY_BROKER_URL=f"redis://127.0.0.1:{instances.free_port()}/0")
        broken = self.tmp / "broken-var"
        broken.mkdir(exist_ok=True)
        (broken / "broker").write_text("not a folder\n", encoding="utf-8")
        return dict(self.env_a, WARD_VAR_DIR=str(broken))


@pytest.fixture(scope="module")
def wards(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    server = os.environ.get("DATABASE_URL")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    with contextlib.ExitStack() as stack:
        urls = stack.enter_context(instances.scratch_databases(("a", "b"), tmp, server, prefix="faults"))
        if broker.startswith("redis://"):
            brokers = stack.enter_context(instances.redis_databases(broker, 2, prefer=(11, 12)))
        else:
            brokers = ["filesystem://", "filesystem://"]
        base = instances.clean_env(
            TRANSFERS_LEASE="3",
            TRANSFERS_HTTP_TIMEOUT="3",
            TRANSFERS_BACKOFF_BASE="0.5",
            TRANSFERS_BACKOFF_MAX="2",
            TRANSFERS_SWEEP_INTERVAL="1",
            TRANSFERS_BREAKER_PAUSE="2",
            TRANSFERS_BREAKER_PAUSE_MAX="10",
        )
        env_a = instances.instance_env(base, A, tmp / "a", urls[0], brokers[0])
        env_b = instances.instance_env(base, B, tmp / "b", urls[1], brokers[1])
        port_b = instances.free_port()
        instances.prepare_pair(env_a, env_b, instances.free_port(), port_b, cross_count=8 * N)
        wards = Wards(tmp, env_a, env_b, port_b)
        stack.callback(wards.stop_all)
        wards.start_web_b()
        wards.start_worker()
        yield wards


def test_a_broker_down_when_the_changes_commit(wards):
    moves = wards.take(N, 1)
    # One commit per change. With Redis unreachable kombu keeps reconnecting for about 6 s before a publication
    # fails (see bench/README.md), so the step gives up at the first refusal, as retry=False means.
    made = wards.move(moves, env=wards.broken_broker_env(), prelude="fail_fast_on_broker_errors()\n")
    assert made["broker_reachable"] is False
    print(f"\na) {N} changes committed with the broker unreachable in {made['seconds']:.1f} s")  # noqa: T201
    # The services succeeded and nothing could be queued (beat is not running yet): all wait in the outbox.
    assert {(n["state"], n["attempts"]) for n in made["notices"]} == {("pending", 0)}
    ids = [n["message_id"] for n in made["notices"]]
    wards.ensure_beat()  # the sweeper, on the working broker
    done = wards.assert_delivered(moves, ids)
    assert set(done["a"]["acknowledged_audit"].values()) == {1}


def test_b_worker_killed_while_it_holds_a_notice(wards):
    wards.ensure_beat()
    wards.web_b.signal_group(signal.SIGSTOP)  # B accepts connections (the kernel does) but answers nothing
    try:
        moves = wards.take(N, 2)
        ids = [n["message_id"] for n in wards.move(moves)["notices"]]
        held = wards.at_a("wait_sending(30, fresh=1.5)")["sending"]
        assert held, wards.logs()
        wards.worker.kill()  # SIGKILL while its HTTP call hangs
        wards.retired.append(wards.worker)
        held_ids = [n["message_id"] for n in held]
        after = wards.at_a(f"outbox({held_ids!r})")
        assert {n["state"] for n in after["notices"]} == {"sending"}, after  # the dead worker's claim remains
    finally:
        wards.web_b.signal_group(signal.SIGCONT)
    wards.start_worker()
    done = wards.assert_delivered(moves, ids)
    reclaimed = [n for n in done["a"]["notices"] if n["message_id"] in held_ids]
    assert all(n["attempts"] >= 2 for n in reclaimed), reclaimed  # claimed again after the lease ran out


def test_c_receiver_down_for_a_while(wards):
    wards.ensure_beat()
    went_down = time.monotonic()
    assert wards.web_b.stop(), wards.logs()  # SIGTERM: B's web server is gone
    wards.retired.append(wards.web_b)
    moves = wards.take(N, 3)
    ids = [n["message_id"] for n in wards.move(moves)["notices"]]
    time.sleep(max(0.0, DOWN - (time.monotonic() - went_down)))  # the outage itself, not a check
    waiting = wards.at_a(f"outbox({ids!r})")
    assert not [n for n in waiting["notices"] if n["state"] == "acknowledged"], waiting
    back = wards.start_web_b()
    done = wards.assert_delivered(moves, ids, timeout=BACK_WITHIN + 10)
    last_ack = max(n["acknowledged"] for n in done["a"]["notices"])
    arrived = done["b"]["last_received"]
    figure = last_ack - back
    print(  # noqa: T201 - the figure the acceptance asks for
        f"\nc) B down {DOWN} s: last notice stored at B {arrived - back:.1f} s and acknowledged at A "
        f"{figure:.1f} s after B came back ({N} notices)"
    )
    assert figure < BACK_WITHIN


def test_d_the_same_message_twice(wards):
    wards.ensure_beat()
    moves = wards.take(2, 4)
    ids = [n["message_id"] for n in wards.move(moves)["notices"]]
    wards.assert_delivered(moves, ids)
    replayed, requeued = ids

    # A replay: the same sealed bytes POSTed twice more, outside the outbox.
    answers = wards.at_a(f"replay({replayed!r}, times=2)")["answers"]
    assert answers == [{"status": 409, "ack": "duplicate"}] * 2

    # A redelivery: the acknowledgement was "lost", the notice goes back to pending and the worker sends it again.
    wards.at_a(f"requeue({requeued!r})")
    done = wards.assert_delivered(moves, ids)  # B applied nothing twice; both end acknowledged
    assert done["b"]["replays"] == {replayed: 2, requeued: 1}
    assert done["a"]["acknowledged_audit"] == {replayed: 1, requeued: 2}
