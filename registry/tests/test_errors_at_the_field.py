"""Errors where the clerk looks (issue 15, item 5): a wrong 生年月日 at that person's field, not in the 住所・届出 box;
every input error of a screen at once; the length limit said beside a field; a date in the future refused in the
search with a word instead of a search on it."""

import re

import pytest

from common.roles import RESIDENT_CLERK
from registry.models import Resident
from registry.tests.change_screens import family, login, to_confirm

from .test_change_screens_entries import MOVE_IN, management, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, clerk):
    return login(client, clerk, RESIDENT_CLERK)


FIELD = re.compile(r'<div class="field[ "]')


def _field_block(body: str, field_id: str) -> str:
    """The <div class="field"> of one input, with its error and help text."""
    at = body.index(f'id="{field_id}"')
    start = [m.start() for m in FIELD.finditer(body, 0, at)][-1]
    following = FIELD.search(body, at)
    return body[start : following.start() if following else len(body)]


def _box(body: str, legend: str) -> str:
    start = body.index(f"<legend>{legend}</legend>")
    return body[start : body.index("</fieldset>", start)]


@pytest.mark.parametrize("typed", ["令和100年1月1日", "2027-01-01"])
def test_a_future_birth_date_on_move_in_is_shown_at_that_persons_field(desk, typed):
    data = {**management(), **person(0), **person(1, given_name="美咲", birth_date=typed, relationship="妻")}
    walk = to_confirm(desk, "/changes/move-in/", {**data, **MOVE_IN}, expect_ok=False)
    body = walk.confirm.content.decode()
    assert 'name="token"' not in body
    assert "生年月日が未来の日付です" in _field_block(body, "id_p-1-birth_date")
    assert "生年月日が未来の日付です" not in _field_block(body, "id_p-0-birth_date")
    assert "生年月日が未来の日付です" not in _box(body, "住所・届出")
    assert not Resident.objects.exists()


def test_a_birth_after_the_move_is_reported_by_the_service_at_that_persons_field(desk):
    data = {**management(), **person(0), **person(1, given_name="美咲", birth_date="R8.11.22", relationship="妻")}
    walk = to_confirm(desk, "/changes/move-in/", {**data, **MOVE_IN}, expect_ok=False)
    body = walk.confirm.content.decode()
    assert "生年月日が異動年月日より後になっています。" in _field_block(body, "id_p-1-birth_date")
    assert "生年月日が異動年月日より後になっています。" not in _box(body, "住所・届出")


def test_move_within_reports_a_bad_date_and_the_empty_address_at_once(desk):
    head, wife, child = family()
    walk = to_confirm(
        desk,
        f"/changes/move-within/{head.household.pk}/",
        {
            "residents": [head.pk, wife.pk, child.pk],
            "destination": "new_address",
            "address": "",
            "change_date": "令和100年1月1日",
            "notified_on": "R8.2.30",
        },
        expect_ok=False,
    )
    body = walk.confirm.content.decode()
    assert "異動年月日が未来の日付です（令和100年1月1日（2118-01-01）と読みました）。" in _field_block(
        body, "id_change_date"
    )
    assert "存在しない日付です" in _field_block(body, "id_notified_on")
    assert "新しい住所を入力してください。" in _field_block(body, "id_address")


def test_the_length_limit_is_said_beside_the_field_and_longer_input_is_refused_there(desk):
    form = desk.get("/changes/move-in/").content.decode()
    assert "30文字まで" in _field_block(form, "id_p-0-surname")
    assert re.search(r'id="id_p-0-surname"[^>]*aria-describedby="id_p-0-surname_helptext"', form) or re.search(
        r'aria-describedby="id_p-0-surname_helptext"[^>]*id="id_p-0-surname"', form
    )
    data = {**management(), **person(0, surname="長" * 1000)}
    body = to_confirm(desk, "/changes/move-in/", {**data, **MOVE_IN}, expect_ok=False).confirm.content.decode()
    assert "30 文字以下" in _field_block(body, "id_p-0-surname") or "30文字以下" in _field_block(body, "id_p-0-surname")


def test_a_future_birth_date_in_the_search_is_refused_with_a_word(desk):
    family()
    body = desk.get("/residents/", {"birth_date": "令和100年1月1日"}).content.decode()
    assert "生年月日が未来の日付です（令和100年1月1日（2118-01-01）と読みました）" in body
    assert "検索していません" in body
    assert 'aria-invalid="true"' in body
    assert "row-link" not in body  # no results
