"""The consistency check finds each kind of disagreement between 住民票, 附票 and 世帯 (and nothing otherwise)."""

import datetime as dt

import pytest
from django.core.management import call_command

from common.juminhyo_codes import juminhyo_code_for
from koseki_fuhyo.models import FuhyoAddress
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, link_to_koseki
from registry.consistency import iter_inconsistencies
from registry.models import Household, Resident
from registry.tasks import check_register_consistency
from registry.tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def findings() -> list[str]:
    return [f.message for f in iter_inconsistencies()]


def test_consistent_data_has_no_findings():
    resident = ResidentFactory()
    link_to_koseki(resident)
    ResidentFactory()  # 本籍 elsewhere
    assert findings() == []
    call_command("check_register_consistency")
    assert check_register_consistency() == 0


def test_missing_fuhyo_entry():
    resident = ResidentFactory()
    entry = link_to_koseki(resident)
    entry.juminhyo_code = ""
    entry.save()
    assert "本籍が区内なのに附票に在籍者が見つかりません" in findings()


def test_identity_and_address_mismatches():
    resident = ResidentFactory()
    entry = link_to_koseki(resident)
    entry.given_name_kana = "タロ"
    entry.save()
    FuhyoAddress.objects.filter(entry=entry).update(address="別の住所")
    found = findings()
    assert "名（カナ）が附票と一致しません" in found
    assert "附票の現住所が住民票の住所と一致しません" in found


def test_fuhyo_address_in_ward_without_resident():
    entry = FuhyoEntryFactory(juminhyo_code=juminhyo_code_for(1))
    FuhyoAddress.objects.create(
        entry=entry,
        municipality_id="131041",
        address="四谷1番",
        established_on=dt.date(2020, 1, 1),
        recorded_on=dt.date(2020, 1, 1),
        reason="転入",
    )
    assert findings() == ["附票の現住所が区内なのに住民票がありません"]


def test_member_at_other_address_and_headless_household():
    head = ResidentFactory()
    member = ResidentFactory(household=head.household, relationship="妻", given_name="花子")
    Household.objects.filter(pk=head.household_id).update(address="どこか")
    Resident.objects.filter(pk=head.pk).update(relationship="夫", address="どこか")
    found = findings()
    assert found.count("世帯員の住所が世帯の住所と一致しません") == 1  # the wife only
    assert "世帯主不在の世帯です（世帯主変更の届出を確認してください）" in found
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_register_consistency")
    assert exit_info.value.code == 1
    assert member.pk
