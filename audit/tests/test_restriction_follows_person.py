"""Finding 1 of issue 12: a restriction follows the person into every record created for them, in the same
transaction, and a service that changes (or creates a record for) a restricted person needs a grant; the 確認 page
never prints the person to a user without one, and its access-log entry names them."""

import datetime as dt

import pytest
from django.utils import timezone

from audit import restrictions
from audit.models import AuditLogEntry
from common.roles import KOSEKI_CLERK, RESIDENT_CLERK, SUPERVISOR
from common.testing.actors import acting_as, as_system
from koseki_fuhyo.choices import EntryStatus
from koseki_fuhyo.models import FuhyoEntry
from registry.choices import ResidentStatus
from registry.models import Resident
from registry.services import entries
from registry.tests.change_screens import counts, errors_of, login, record, to_confirm

from .restricted_persons import leaks, make_restricted_persons, supervisor_user
from .screens import entries_after, last_id

pytestmark = pytest.mark.django_db
HEADER = {"filed_on": "R8.11.20", "ward_role": "honsekichi"}
TRANSFER = {**HEADER, "koseki": "北新宿九丁目9番", "honseki_municipality": "131041", "honseki_address": "戸山一丁目1番"}


@pytest.fixture
def persons():
    return make_restricted_persons()


def _grant(user, **record):
    return restrictions.grant(
        actor=supervisor_user(),
        user=user,
        reason="手続のため",
        expires_at=timezone.now() + dt.timedelta(days=1),
        **record,
    )


def test_honseki_transfer_of_a_restricted_person_without_a_grant_shows_nothing_and_changes_nothing(
    client, koseki_clerk, persons
):
    desk = login(client, koseki_clerk, KOSEKI_CLERK)
    before = counts()
    mark = last_id()
    walk = to_confirm(desk, "/filings/honseki_transfer/", TRANSFER, expect_ok=False)
    body = walk.confirm.content.decode()
    assert leaks(body, persons, shared=True) == []
    assert 'name="token"' not in body, "the 確認 page of a restricted person was shown without a grant"
    assert "閲覧制限のある方" in errors_of(walk.confirm)
    assert counts() == before
    access = entries_after(mark, category=AuditLogEntry.Category.ACCESS, method="POST")
    assert len(access) == 1
    assert persons["kitouin"].entry.pk in access[0].conditions.get("restricted_persons", {}).get("fuhyo_entry", [])


def test_honseki_transfer_with_a_grant_keeps_every_new_record_restricted(client, django_user_model, persons):
    boss = django_user_model.objects.create_user(username="boss", password="pass-for-tests-only")
    desk = login(client, boss, SUPERVISOR)
    kitouin, higaki = persons["kitouin"], persons["higaki"]
    _grant(boss, fuhyo_entry=kitouin.entry)
    _grant(boss, fuhyo_entry=higaki.entry)
    walk = to_confirm(desk, "/filings/honseki_transfer/", TRANSFER)
    assert record(desk, "/filings/honseki_transfer/", walk.token).status_code == 302
    new_rows = FuhyoEntry.objects.filter(status=EntryStatus.CURRENT, koseki__honseki_address="戸山一丁目1番")
    assert sorted((e.surname, e.access_restricted) for e in new_rows) == [("檜垣", True), ("鬼頭院", True)]
    resident = Resident.objects.get(pk=kitouin.resident.pk)
    assert (resident.honseki_address, resident.access_restricted) == ("戸山一丁目1番", True)


def _moving_in(person):
    return entries.PersonData(
        surname=person.surname,
        given_name=person.given_name,
        surname_kana=person.surname_kana,
        given_name_kana=person.given_name_kana,
        birth_date=person.birth_date,
        sex="1",
        relationship="世帯主",
        juminhyo_code=person.juminhyo_code,
    )


@as_system()  # the system's own act (no acting clerk), as when a notice is applied
def _move_in(person):
    return entries.move_in(
        [_moving_in(person)],
        change_date=dt.date(2026, 11, 20),
        notified_on=dt.date(2026, 11, 24),
        previous_municipality="131130",
        previous_address="宇田川町75番11号",
        new_household=entries.NewHousehold(address="百人町九丁目9番9号"),
    )


def test_move_in_with_the_code_of_a_restricted_person_creates_a_restricted_resident(persons):
    higaki = persons["higaki"]
    result = _move_in(higaki)  # the system's own act (no acting clerk), e.g. a notice being applied
    (resident,) = result.residents
    assert resident.access_restricted
    assert resident.status == ResidentStatus.CURRENT


def test_move_in_with_the_code_of_a_restricted_person_is_refused_to_a_clerk_without_a_grant(client, clerk, persons):
    desk = login(client, clerk, RESIDENT_CLERK)
    higaki = persons["higaki"]
    before = counts()
    data = {
        "p-TOTAL_FORMS": "1",
        "p-INITIAL_FORMS": "0",
        "p-MIN_NUM_FORMS": "1",
        "p-MAX_NUM_FORMS": "10",
        "p-0-surname": higaki.surname,
        "p-0-given_name": higaki.given_name,
        "p-0-surname_kana": higaki.surname_kana,
        "p-0-given_name_kana": higaki.given_name_kana,
        "p-0-birth_date": higaki.birth_date.isoformat(),
        "p-0-sex": "1",
        "p-0-relationship": "世帯主",
        "p-0-juminhyo_code": higaki.juminhyo_code,
        "previous_municipality": "131130",
        "previous_address": "宇田川町75番11号",
        "destination": "new",
        "address": "百人町九丁目9番9号",
        "change_date": "R8.11.20",
        "notified_on": "R8.11.24",
    }
    walk = to_confirm(desk, "/changes/move-in/", data, expect_ok=False)
    assert "閲覧制限のある方" in errors_of(walk.confirm)
    assert counts() == before
    # and nothing the clerk can find by the code opens
    page = desk.get("/residents/search/", {"juminhyo_code": higaki.juminhyo_code})
    assert "百人町九丁目9番9号" not in page.content.decode()


def test_lifting_the_restriction_lifts_it_on_the_records_created_after_it(persons):
    higaki = persons["higaki"]
    (resident,) = _move_in(higaki).residents
    restriction = restrictions.active_restrictions(higaki.juminhyo_code).get()
    restrictions.lift(restriction, actor=supervisor_user(), reason="終了")
    resident.refresh_from_db()
    higaki.entry.refresh_from_db()
    assert (resident.access_restricted, higaki.entry.access_restricted) == (False, False)


def test_a_change_of_a_restricted_person_needs_a_grant(clerk, persons):
    from registry.services import moves

    washinomiya = persons["washinomiya"].resident
    with acting_as(clerk), pytest.raises(Exception, match="閲覧制限のある方") as refused:
        moves.move_within(
            [washinomiya],
            change_date=dt.date(2026, 11, 20),
            notified_on=dt.date(2026, 11, 20),
            new_address=entries.NewHousehold(address="百人町九丁目9番9号"),
            new_head=washinomiya,
            relationships={washinomiya.pk: "世帯主"},
        )
    assert refused.type.__name__ == "RestrictedPersonError"
    washinomiya.refresh_from_db()
    assert washinomiya.address == "戸山八丁目86番21号"


def test_the_notice_of_a_filing_about_a_restricted_person_does_not_open_without_a_grant(
    client, django_user_model, koseki_clerk, persons
):
    from transfers.models import OutboundNotice

    boss = django_user_model.objects.create_user(username="boss", password="pass-for-tests-only")
    desk = login(client, boss, SUPERVISOR)
    kitouin, higaki = persons["kitouin"], persons["higaki"]
    _grant(boss, fuhyo_entry=kitouin.entry)
    _grant(boss, fuhyo_entry=higaki.entry)
    moving = {**TRANSFER, "honseki_municipality": "131130", "honseki_address": "神南九丁目9番"}  # to 渋谷区: notices
    walk = to_confirm(desk, "/filings/honseki_transfer/", moving)
    assert record(desk, "/filings/honseki_transfer/", walk.token).status_code == 302
    notices = list(OutboundNotice.objects.all())
    assert notices
    other = login(client.__class__(), koseki_clerk, KOSEKI_CLERK)
    for notice in notices:
        page = other.get(f"/notices/outbox/{notice.pk}/")
        assert page.status_code == 404, (notice.kind, page.status_code)
        assert leaks(page.content.decode(), persons, shared=True) == []
