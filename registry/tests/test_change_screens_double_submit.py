"""The same input never records twice: double submit, reload of the 記録 POST, the back button, the same form
confirmed again after recording. The second attempt is told 「この入力はすでに記録されています」 with a link."""

import pytest

from common.roles import RESIDENT_CLERK
from registry.models import ResidentChange, UsedSubmissionToken
from registry.tests.change_screens import family, hidden, login, record, to_confirm

pytestmark = pytest.mark.django_db
ALREADY = "この入力はすでに記録されています"


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


@pytest.fixture
def move(desk):
    head, wife, child = family()
    url = f"/changes/move-within/{head.household.pk}/"
    data = {
        "residents": [head.pk, wife.pk, child.pk],
        "destination": "new_address",
        "address": "高田馬場一丁目2番3号",
        "change_date": "R8.11.20",
        "notified_on": "R8.11.20",
    }
    return url, data, to_confirm(desk, url, data)


def test_the_same_token_twice_records_once(desk, move):
    url, data, walk = move
    first = record(desk, url, walk.token)
    second = record(desk, url, walk.token)  # a double click, or a reload of the POST
    assert first.status_code == 302
    assert second.status_code == 409
    body = second.content.decode()
    assert ALREADY in body
    assert f'href="{first.url}"' in body  # the link to the result
    assert ResidentChange.objects.count() == 3
    assert UsedSubmissionToken.objects.count() == 1


def test_back_button_to_the_form_and_confirm_again_is_refused(desk, move):
    url, data, walk = move
    record(desk, url, walk.token)
    # The browser's back button shows the form as it was, with its entry key: confirming it again is refused.
    again = desk.post(url, {**data, "entry_key": walk.entry_key, "step": "confirm"})
    assert again.status_code == 409
    assert ALREADY in again.content.decode()
    assert ResidentChange.objects.count() == 3


def test_back_from_the_confirm_screen_keeps_the_input_and_the_key(desk, move):
    url, data, walk = move
    back = desk.post(url, {"token": walk.token, "step": "back"})
    assert back.status_code == 200
    body = back.content.decode()
    assert 'value="高田馬場一丁目2番3号"' in body
    assert hidden(back, "entry_key") == walk.entry_key
    # corrected and confirmed again: one record, from the second 確認
    changed = desk.post(url, {**data, "katagaki": "コーポ101", "entry_key": walk.entry_key, "step": "confirm"})
    assert record(desk, url, hidden(changed, "token")).status_code == 302
    assert record(desk, url, walk.token).status_code == 409  # the first 確認 can no longer record
    assert set(ResidentChange.objects.values_list("new_address", flat=True)) == {
        "東京都新宿区高田馬場一丁目2番3号　コーポ101"
    }


def test_a_refused_record_leaves_the_key_unused(desk, move, clerk):
    url, data, walk = move
    # Between 確認 and 記録 the 世帯 moves by another path (a batch, say), so the service refuses the same input.
    import datetime as dt

    from common.testing.actors import as_system
    from registry import services
    from registry.models import Resident
    from registry.services.entries import NewHousehold

    with as_system():
        services.move_within(
            list(Resident.objects.filter(pk__in=data["residents"])),
            change_date=dt.date(2026, 11, 19),
            notified_on=dt.date(2026, 11, 19),
            new_address=NewHousehold("高田馬場一丁目2番3号"),
        )
    moved = ResidentChange.objects.count()
    refused = record(desk, url, walk.token)
    assert refused.status_code == 200
    assert "新しい住所が今までの住所と同じです。" in refused.content.decode()
    assert not UsedSubmissionToken.objects.exists()
    assert ResidentChange.objects.count() == moved


def test_a_forged_or_foreign_token_is_refused(desk, move, django_user_model):
    url, data, walk = move
    forged = walk.token[:-2] + ("AA" if not walk.token.endswith("AA") else "BB")
    answer = record(desk, url, forged)
    assert "確認画面の内容を読み取れません" in answer.content.decode()
    other = django_user_model.objects.create_user(username="other", password="x-for-tests-only", last_name="佐藤")
    from django.test import Client

    stranger = login(Client(), other, RESIDENT_CLERK)
    answer = record(stranger, url, walk.token)
    assert "別の職員または別の画面のもの" in answer.content.decode()
    assert not ResidentChange.objects.exists()
