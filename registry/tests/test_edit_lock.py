"""排他制御: while one clerk edits a 住民票 or 世帯, another cannot start; locks expire, are renewed on every step,
and are released when the change is recorded; taking a lock is race-safe on PostgreSQL."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from common.roles import RESIDENT_CLERK
from registry import locks
from registry.models import EditLock, ResidentChange, UsedSubmissionToken
from registry.tests.change_screens import family, login, record, to_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_clerk(django_user_model):
    return django_user_model.objects.create_user(username="sato", password="x-for-tests-only", last_name="佐藤")


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


@pytest.fixture
def other_desk(other_clerk):
    return login(Client(), other_clerk, RESIDENT_CLERK)


def since(lock: EditLock) -> str:
    return timezone.localtime(lock.acquired_at).strftime("%H:%M")


def later(monkeypatch, minutes: int) -> None:
    moment = timezone.now() + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(locks, "now", lambda: moment)


def test_second_clerk_is_refused_with_who_and_since_when(clerk, other_clerk):
    head, wife, child = family()
    locks.acquire(clerk, [locks.resident_key(wife)])
    with pytest.raises(locks.LockRefused) as refused:
        locks.acquire(other_clerk, [locks.resident_key(wife)])
    lock = EditLock.objects.get()
    assert refused.value.message == f"この住民票は窓口さんが編集中です（{since(lock)} から）"


def test_all_or_nothing(clerk, other_clerk):
    head, wife, child = family()
    locks.acquire(clerk, [locks.resident_key(child)])
    with pytest.raises(locks.LockRefused):
        locks.acquire(other_clerk, locks.household_keys(head.household))
    assert list(EditLock.objects.values_list("holder__username", flat=True)) == ["clerk"]


def test_renewal_keeps_the_start_and_extends_the_expiry(clerk, monkeypatch):
    head, wife, child = family()
    locks.acquire(clerk, [locks.resident_key(wife)])
    first = EditLock.objects.get()
    later(monkeypatch, 10)
    locks.acquire(clerk, [locks.resident_key(wife)])
    renewed = EditLock.objects.get()
    assert renewed.acquired_at == first.acquired_at
    assert renewed.expires_at > first.expires_at


def test_an_expired_lock_is_taken_over(clerk, other_clerk, monkeypatch):
    head, wife, child = family()
    locks.acquire(clerk, [locks.resident_key(wife)])
    later(monkeypatch, 16)
    locks.acquire(other_clerk, [locks.resident_key(wife)])
    lock = EditLock.objects.get()
    assert lock.holder == other_clerk
    assert lock.acquired_at > timezone.now()  # a new start for the new holder


def test_the_screen_refuses_the_second_clerk(desk, other_desk):
    head, wife, child = family()
    assert desk.get(f"/changes/move-within/{head.household.pk}/").status_code == 200
    assert not EditLock.objects.exists()  # opening a screen takes no lock; the first POST does
    desk.post(f"/changes/move-within/{head.household.pk}/", {"step": "confirm"})
    refused = other_desk.get(f"/changes/split/{head.household.pk}/")
    assert refused.status_code == 409
    lock = EditLock.objects.get(subject_kind="household")
    assert f"この世帯は窓口さんが編集中です（{since(lock)} から）" in refused.content.decode()
    person = other_desk.get(f"/changes/amend/{wife.pk}/")
    assert person.status_code == 409
    assert "この住民票は窓口さんが編集中です" in person.content.decode()


def test_commit_releases_the_locks(desk, other_desk):
    head, wife, child = family()
    url = f"/changes/move-within/{head.household.pk}/"
    data = {"residents": [head.pk, wife.pk, child.pk], "destination": "new_address", "address": "四谷一丁目1番"}
    walk = to_confirm(desk, url, {**data, "change_date": "R8.11.20", "notified_on": "R8.11.20"})
    assert EditLock.objects.count() == 4
    assert record(desk, url, walk.token).status_code == 302
    assert not EditLock.objects.exists()
    assert other_desk.get(f"/changes/split/{head.household.pk}/").status_code == 200


def test_a_clerk_whose_lock_expired_and_was_taken_cannot_record(desk, other_desk, monkeypatch):
    head, wife, child = family()
    url = f"/changes/move-within/{head.household.pk}/"
    data = {"residents": [head.pk, wife.pk, child.pk], "destination": "new_address", "address": "四谷一丁目1番"}
    walk = to_confirm(desk, url, {**data, "change_date": "R8.11.20", "notified_on": "R8.11.20"})
    later(monkeypatch, 20)  # the first clerk left the 確認 screen open
    assert other_desk.get(f"/changes/split/{head.household.pk}/").status_code == 200
    other_desk.post(f"/changes/split/{head.household.pk}/", {"step": "confirm"})  # and starts editing
    refused = record(desk, url, walk.token)
    assert refused.status_code == 409
    assert "この世帯は佐藤さんが編集中です" in refused.content.decode()
    assert not ResidentChange.objects.exists()
    assert not UsedSubmissionToken.objects.exists()  # the input can still be recorded later


def test_the_supervisor_list_shows_the_locks(client, desk, django_user_model):
    from common.roles import SUPERVISOR

    head, wife, child = family()
    desk.post(f"/changes/amend/{wife.pk}/", {"step": "confirm"})
    boss = login(
        Client(), django_user_model.objects.create_user(username="boss", password="x-for-tests-only"), SUPERVISOR
    )
    page = boss.get("/changes/locks/").content.decode()
    assert "窓口" in page
    assert f"住民票 #{wife.pk}" in page
    assert "山田" not in page  # no names of residents on the list


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs concurrent transactions (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_clerks_racing_for_the_same_record_on_postgresql(django_user_model):
    users = [django_user_model.objects.create_user(username=f"racer{i}", password="x-for-tests-only") for i in range(8)]
    key = locks.LockKey(EditLock.Subject.RESIDENT, 424242)
    start = threading.Barrier(len(users))
    won, lost = [], []

    def take(user) -> None:
        from django.db import connections

        try:
            start.wait()
            locks.acquire(user, [key])
            won.append(user.pk)
        except locks.LockRefused:
            lost.append(user.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert len(lost) == len(users) - 1
    assert EditLock.objects.get().holder_id == won[0]
