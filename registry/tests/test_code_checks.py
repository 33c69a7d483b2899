"""The reconciliation never keys a task (RegisterDiscrepancy) by a 住民票コード that fails its check digit: such a
finding (a row written around the services) is counted and left to the consistency check, like one without a code."""

import datetime as dt

import pytest
from django.core.management import call_command

from common.batch import BatchExit
from common.juminhyo_codes import juminhyo_code_for
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from koseki_fuhyo.tests.factories import FuhyoEntryFactory
from registry.models import RegisterDiscrepancy
from registry.reconcile import PersonFinding, reconcile

pytestmark = pytest.mark.django_db

WRONG_CODE = "12345678904"  # deliberately invalid: the check digit of 1234567890 is 3


def test_a_finding_whose_code_fails_its_check_digit_is_counted_not_a_task():
    findings = [
        PersonFinding(WRONG_CODE, None, None, ["附票の現住所が区内なのに住民票がありません"]),
        PersonFinding(juminhyo_code_for(1), None, None, ["附票の現住所が区内なのに住民票がありません"]),
    ]
    result = reconcile(findings, today=dt.date(2026, 11, 25))
    assert (result.counts["opened"], result.counts["invalid_code"]) == (1, 1)
    assert list(RegisterDiscrepancy.objects.values_list("juminhyo_code", flat=True)) == [juminhyo_code_for(1)]


def test_the_nightly_command_says_how_many_codes_failed(capsys):
    entry = FuhyoEntryFactory(juminhyo_code=juminhyo_code_for(1))
    FuhyoAddress.objects.create(
        entry=entry,
        municipality_id="131041",
        address="四谷1番",
        established_on=dt.date(2020, 1, 1),
        recorded_on=dt.date(2020, 1, 1),
        reason="転入",
    )
    FuhyoEntry.objects.filter(pk=entry.pk).update(juminhyo_code=WRONG_CODE)  # around the services
    try:
        call_command("reconcile_registers", no_progress=True)
    except BatchExit:
        pass
    assert "住民票コードの検査数字が正しくない相違 1 件は整合性検査で確認" in capsys.readouterr().out
    assert not RegisterDiscrepancy.objects.exists()
