"""Every 届出事件 of domain.md §3.3 has a service, and the families of kinds behave alike."""

import datetime as dt

import pytest

from koseki_fuhyo.choices import ARTICLE_OF, EntryStatus, FilingKind, KosekiStatus
from koseki_fuhyo.models import Koseki
from koseki_fuhyo.services import filings
from koseki_fuhyo.services.filings import FiledPerson, FilingHeader, KosekiPlace, NewNational
from koseki_fuhyo.tests.factories import KosekiFactory, link_to_koseki
from registry.choices import ChangeReason, ResidentStatus
from registry.consistency import iter_inconsistencies
from registry.models import ResidentChange
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
HEADER = FilingHeader(filed_on=dt.date(2026, 11, 20))


def test_every_kind_has_a_service_and_an_article():
    assert set(filings.SERVICE_FOR_KIND) == set(FilingKind.values)
    assert set(ARTICLE_OF) == set(FilingKind.values)


@pytest.mark.parametrize("kind", sorted(filings.RELOCATION_KINDS))
def test_relocation_kinds_move_the_person_and_its_resident_record(as_clerk, kind):
    resident = ResidentFactory(surname="山田", given_name="次郎", given_name_kana="ジロウ")
    old = link_to_koseki(resident, KosekiFactory(hittousha_surname="山田", hittousha_given_name="一"))
    filings.file_relocation(
        kind,
        HEADER,
        [FiledPerson(resident=resident)],
        KosekiPlace(honseki_municipality="131041", honseki_address="市谷本村町1番"),
        new_surname="中村",
        new_surname_kana="ナカムラ",
    )
    old.refresh_from_db()
    assert old.status == EntryStatus.REMOVED
    assert old.removed_reason == FilingKind(kind).label
    resident.refresh_from_db()
    assert (resident.surname, resident.honseki_address, resident.hittousha_name) == (
        "中村",
        "市谷本村町1番",
        "中村　次郎",
    )
    change = ResidentChange.objects.get(resident=resident)
    assert change.reason == ChangeReason.KOSEKI_NOTICE
    assert change.filing.kind == kind
    assert Koseki.objects.get(pk=old.koseki_id).status == KosekiStatus.CLOSED  # he was its only member
    assert list(iter_inconsistencies()) == []


@pytest.mark.parametrize("kind", sorted(filings.NEW_NATIONAL_KINDS))
def test_new_national_kinds_living_elsewhere_enter_the_koseki_only(as_clerk, kind):
    result = filings.file_new_national(
        kind,
        HEADER,
        NewNational("李", "花", "リ", "ハナ", dt.date(1990, 3, 3), "2"),
        KosekiPlace(
            honseki_municipality="131041",
            honseki_address="大久保二丁目1番",
            hittousha_surname="李",
            hittousha_given_name="花",
        ),
        address_municipality="131130",
        address="宇田川町1番",
    )
    entry = result.entries[0]
    assert entry.entered_reason == FilingKind(kind).label
    assert entry.current_address().municipality_id == "131130"
    assert result.resident_results == []


@pytest.mark.parametrize("kind", sorted(filings.NEW_NATIONAL_KINDS))
def test_new_national_kinds_living_here_get_a_resident_record(as_clerk, kind):
    result = filings.file_new_national(
        kind,
        HEADER,
        NewNational("李", "花", "リ", "ハナ", dt.date(1990, 3, 3), "2"),
        KosekiPlace(
            honseki_municipality="131041",
            honseki_address="大久保二丁目1番",
            hittousha_surname="李",
            hittousha_given_name="花",
        ),
        new_household=NewHousehold("大久保二丁目5番5号"),
    )
    resident = result.resident_results[0].residents[0]
    assert resident.juminhyo_code == result.entries[0].juminhyo_code
    assert list(iter_inconsistencies()) == []


def test_nationality_loss_removes_resident_and_entry(as_clerk):
    resident = ResidentFactory()
    entry = link_to_koseki(resident)
    filings.file_death(
        HEADER, FiledPerson(resident=resident), date_of_death=dt.date(2026, 11, 1), kind=FilingKind.NATIONALITY_LOSS
    )
    resident.refresh_from_db()
    entry.refresh_from_db()
    assert resident.status == ResidentStatus.REMOVED
    assert entry.removed_reason == "国籍喪失"
