"""Finding 3 of issue 12: a masked search row is matched on identity items only (氏名, カナ, 生年月日, 住民票コード;
for 戸籍 the 筆頭者's 氏名 and カナ), so that adding an address, 世帯 or 本籍 condition cannot answer a yes/no question
about a restricted person; every masked hit is an access-log entry the nightly analysis reports."""

import datetime as dt
import re

import pytest

from audit import analysis
from audit.models import AnalysisFlag, AuditLogEntry
from common.roles import KOSEKI_CLERK, RESIDENT_CLERK
from registry.tests.change_screens import login

from .restricted_persons import leaks, make_restricted_persons
from .screens import entries_after, last_id

pytestmark = pytest.mark.django_db
MASKED_ROW = re.compile(r'<tr class="masked">')


@pytest.fixture
def persons():
    return make_restricted_persons()


def _rows(client, url: str, params: dict) -> tuple[int, int, str]:
    body = client.get(url, params).content.decode()
    return body.count('class="row-link"'), len(MASKED_ROW.findall(body)), body


@pytest.mark.parametrize(
    "identity",
    [{"birth_date": "1977-07-29"}, {"kana": "キトウイン"}, {"name": "鬼頭院"}, {"juminhyo_code": "code"}],
    ids=["birth_date", "kana", "name", "code"],
)
def test_address_and_household_conditions_do_not_change_whether_a_masked_row_appears(client, clerk, persons, identity):
    desk = login(client, clerk, RESIDENT_CLERK)
    kitouin = persons["kitouin"]
    identity = {k: (kitouin.juminhyo_code if v == "code" else v) for k, v in identity.items()}
    answers = {
        str(extra): _rows(desk, "/residents/", {**identity, **extra})[:2]
        for extra in (
            {},
            {"address": "神楽坂九丁目97番43号"},
            {"address": "神楽坂九丁目97番42号"},
            {"address": "神楽坂"},
            {"household_number": kitouin.resident.household.number},
            {"household_number": "99999999"},
            {"status": "removed"},
        )
    }
    assert {masked for _, masked in answers.values()} == {1}, answers


def test_an_address_alone_never_finds_a_restricted_person(client, clerk, persons):
    desk = login(client, clerk, RESIDENT_CLERK)
    visible, masked, body = _rows(desk, "/residents/", {"address": "神楽坂九丁目97番43号"})
    assert (visible, masked) == (1, 0)  # 久我　一葉, who lives there too
    assert leaks(body, persons) == []


def test_koseki_search_masks_on_the_hittousha_name_only(client, koseki_clerk, persons):
    desk = login(client, koseki_clerk, KOSEKI_CLERK)
    answers = {
        honseki: _rows(desk, "/koseki/", {"hittousha_kana": "キトウイン", "honseki": honseki})[:2]
        for honseki in ("", "北新宿九丁目9番", "北新宿九丁目8番", "戸山")
    }
    assert {masked for _, masked in answers.values()} == {1}, answers
    visible, masked, body = _rows(desk, "/koseki/", {"honseki": "北新宿九丁目9番"})
    assert (visible, masked) == (0, 0)
    assert leaks(body, persons) == []


def test_a_masked_hit_is_logged_and_reported_by_the_nightly_analysis(client, clerk, persons):
    desk = login(client, clerk, RESIDENT_CLERK)
    mark = last_id()
    desk.get("/residents/", {"kana": "キトウイン"})
    (entry,) = entries_after(mark, category=AuditLogEntry.Category.ACCESS)
    kitouin = persons["kitouin"].resident
    assert entry.conditions["masked_hits"] == [kitouin.pk]
    start = entry.occurred_at - dt.timedelta(minutes=1)
    findings = analysis.masked_hit_findings(start, start + dt.timedelta(hours=1))
    assert [(f.kind, f.username, f.key) for f in findings] == [
        (AnalysisFlag.Kind.MASKED_HIT, clerk.username, f"resident:{kitouin.pk}")
    ]
