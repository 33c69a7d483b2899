"""職権修正 screen: the items changed on the prefilled form are corrected (a 除票 too), and refusals."""

import pytest

from common.roles import RESIDENT_CLERK
from registry import services
from registry.choices import ChangeReason
from registry.models import ResidentChange
from registry.tests.change_screens import counts, errors_of, family, login, record, snapshot, to_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


def form_values(resident, **changes) -> dict:
    values = {
        "surname": resident.surname,
        "given_name": resident.given_name,
        "surname_kana": resident.surname_kana,
        "given_name_kana": resident.given_name_kana,
        "birth_date": resident.birth_date.isoformat(),
        "sex": resident.sex,
        "relationship": resident.relationship,
        "honseki_municipality": resident.honseki_municipality_id or "",
        "honseki_address": resident.honseki_address,
        "hittousha_name": resident.hittousha_name,
        "juminhyo_code": resident.juminhyo_code,
        "address_established_on": resident.address_established_on.isoformat(),
        "became_resident_on": resident.became_resident_on.isoformat(),
        "change_date": "R8.11.20",
        "note": "誤記修正（届書の確認による）",
    }
    return values | changes


def test_correcting_the_given_name_shows_only_that_item(desk):
    head, wife, child = family()
    url = f"/changes/amend/{wife.pk}/"
    form = desk.get(url).content.decode()
    assert 'value="花子"' in form
    assert "昭和55年5月1日（1980-05-01）" in form  # the birth date is shown as 和暦（西暦）
    walk = to_confirm(desk, url, form_values(wife, given_name="華子"))
    body = walk.confirm.content.decode()
    assert "華子" in body
    assert "住所を定めた年月日" not in body  # unchanged items are not listed
    assert record(desk, url, walk.token).status_code == 302
    change = ResidentChange.objects.get()
    assert (change.reason, change.details) == (ChangeReason.EX_OFFICIO_AMENDMENT, {"given_name": ["花子", "華子"]})


def test_a_removed_record_is_corrected_too(desk, clerk):
    head, wife, child = family()
    from common.testing.actors import acting_as

    with acting_as(clerk):
        services.ex_officio_removal([child], change_date=child.address_established_on, note="実態調査")
    url = f"/changes/amend/{child.pk}/"
    walk = to_confirm(desk, url, form_values(child, surname_kana="ヤマタ"))
    assert record(desk, url, walk.token).status_code == 302
    child.refresh_from_db()
    assert child.surname_kana == "ヤマタ"


def test_nothing_changed_is_refused(desk):
    head, wife, child = family()
    before, rows = snapshot(wife), counts()
    walk = to_confirm(desk, f"/changes/amend/{wife.pk}/", form_values(wife), expect_ok=False)
    assert "修正する内容が今の記載と同じです。" in errors_of(walk.confirm)
    assert (snapshot(wife), counts()) == (before, rows)


def test_making_a_member_head_is_refused_at_the_relationship(desk):
    head, wife, child = family()
    before = counts()
    walk = to_confirm(desk, f"/changes/amend/{wife.pk}/", form_values(wife, relationship="世帯主"), expect_ok=False)
    body = walk.confirm.content.decode()
    message = "この世帯にはすでに世帯主がいます。世帯主変更として記録してください。"
    assert message in errors_of(walk.confirm)
    assert body.index(message) > body.index('id="id_relationship"')
    assert counts() == before


def test_a_wrong_date_is_refused_in_japanese(desk):
    head, wife, child = family()
    walk = to_confirm(desk, f"/changes/amend/{wife.pk}/", form_values(wife, birth_date="R6.2.30"), expect_ok=False)
    assert "「R6.2.30」は存在しない日付です。" in errors_of(walk.confirm)
