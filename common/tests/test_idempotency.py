"""One-time submission keys: a token binds the key, the clerk, the screen and the input; a key is consumed once, in
the recording transaction; a second use is refused; concurrent uses on PostgreSQL let exactly one through."""

import threading

import pytest
from django.core import signing
from django.db import connection, transaction

from common import idempotency
from common.errors import ServiceError
from registry.models import UsedSubmissionToken

pytestmark = pytest.mark.django_db
DATA = [["address", "高田馬場一丁目2番3号"], ["residents", "1"], ["residents", "2"]]


def test_a_token_carries_the_confirmed_input():
    key = idempotency.new_entry_key()
    token = idempotency.issue(key, user_id=7, purpose="registry_changes:move_within", data=DATA, fingerprint="f")
    payload = idempotency.read(token, user_id=7, purpose="registry_changes:move_within")
    assert (payload["k"], payload["d"], payload["f"]) == (key, DATA, "f")
    assert idempotency.to_querydict(payload["d"]).getlist("residents") == ["1", "2"]


@pytest.mark.parametrize(
    ("user_id", "purpose", "message"),
    [(8, "registry_changes:move_within", "別の職員"), (7, "registry_changes:death", "別の画面")],
)
def test_a_token_of_another_clerk_or_screen_is_refused(user_id, purpose, message):
    token = idempotency.issue(idempotency.new_entry_key(), user_id=7, purpose="registry_changes:move_within", data=[])
    with pytest.raises(idempotency.TokenError, match=message):
        idempotency.read(token, user_id=user_id, purpose=purpose)


def test_an_altered_token_is_refused():
    token = idempotency.issue(idempotency.new_entry_key(), user_id=7, purpose="p", data=DATA)
    with pytest.raises(idempotency.TokenError, match="読み取れません"):
        idempotency.read(token.replace(token[5], "x" if token[5] != "x" else "y", 1), user_id=7, purpose="p")


def test_an_old_token_expires(monkeypatch):
    token = idempotency.issue(idempotency.new_entry_key(), user_id=7, purpose="p", data=DATA)
    monkeypatch.setattr(idempotency, "TOKEN_MAX_AGE", -1)
    with pytest.raises(idempotency.TokenError, match="有効期限"):
        idempotency.read(token, user_id=7, purpose="p")


def test_a_key_is_consumed_once(clerk):
    key = idempotency.new_entry_key()
    with transaction.atomic():
        used = idempotency.consume(UsedSubmissionToken, key, user=clerk, purpose="p")
        idempotency.settle(used, url="/residents/1/", label="転居を記録しました（1人）。")
    with transaction.atomic(), pytest.raises(idempotency.AlreadyUsed) as second:
        idempotency.consume(UsedSubmissionToken, key, user=clerk, purpose="p")
    assert second.value.used.result_url == "/residents/1/"
    assert UsedSubmissionToken.objects.count() == 1


def test_a_rolled_back_recording_leaves_the_key_unused(clerk):
    key = idempotency.new_entry_key()

    def record_and_fail() -> None:
        with transaction.atomic():
            idempotency.consume(UsedSubmissionToken, key, user=clerk, purpose="p")
            raise ServiceError("the service refused")

    with pytest.raises(ServiceError):
        record_and_fail()
    assert idempotency.find_used(UsedSubmissionToken, key) is None


@pytest.mark.django_db(transaction=True)
def test_consuming_outside_a_transaction_is_a_programming_error(clerk):
    with pytest.raises(RuntimeError, match="transaction"):
        idempotency.consume(UsedSubmissionToken, idempotency.new_entry_key(), user=clerk, purpose="p")


def test_entry_keys_are_fresh_and_well_formed():
    keys = {idempotency.new_entry_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(idempotency.is_entry_key(k) for k in keys)
    assert not idempotency.is_entry_key("../../etc")
    assert not idempotency.is_entry_key(signing.dumps("x"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_of_one_key_let_exactly_one_through(django_user_model):
    user = django_user_model.objects.create_user(username="racer", password="x-for-tests-only")
    key = idempotency.new_entry_key()
    start = threading.Barrier(6)
    outcomes: list[str] = []

    def use() -> None:
        from django.db import connections

        try:
            start.wait()
            with transaction.atomic():
                idempotency.consume(UsedSubmissionToken, key, user=user, purpose="p")
            outcomes.append("recorded")
        except idempotency.AlreadyUsed:
            outcomes.append("already")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already"] * 5 + ["recorded"]
