"""A 戸籍届出 refuses a typed 住民票コード that fails its check digit before it writes anything (FilingPerson keeps
the code of the 届書), also where no 附票 row of the ward would have checked it (a new 本籍 outside the ward)."""

import datetime as dt

import pytest

from common.errors import ServiceError
from common.juminhyo_codes import juminhyo_code_for
from common.models import ChangeEvent
from koseki_fuhyo.choices import FilingKind
from koseki_fuhyo.models import FilingPerson, FuhyoEntry, KosekiFiling
from koseki_fuhyo.services import filings
from koseki_fuhyo.services.filings import FilingHeader, KosekiPlace, NewNational

pytestmark = pytest.mark.django_db

HEADER = FilingHeader(filed_on=dt.date(2026, 11, 20))
IN_WARD = KosekiPlace(
    honseki_municipality="131041", honseki_address="大久保二丁目1番", hittousha_surname="李", hittousha_given_name="花"
)
ELSEWHERE = KosekiPlace(
    honseki_municipality="131130", honseki_address="宇田川町1番", hittousha_surname="李", hittousha_given_name="花"
)


def _file(code: str, place: KosekiPlace = IN_WARD):
    return filings.file_new_national(
        FilingKind.NATURALIZATION,
        HEADER,
        NewNational("李", "花", "リ", "ハナ", dt.date(1990, 3, 3), "2", juminhyo_code=code),
        place,
        address_municipality="131130",
        address="宇田川町1番",
    )


def _counts() -> tuple[int, int, int, int]:
    return (
        KosekiFiling.objects.count(),
        FilingPerson.objects.count(),
        FuhyoEntry.objects.count(),
        ChangeEvent.objects.count(),
    )


@pytest.mark.parametrize("place", [IN_WARD, ELSEWHERE], ids=["koseki-in-ward", "koseki-elsewhere"])
def test_a_typed_code_with_a_wrong_check_digit_is_refused(as_clerk, place):
    before = _counts()
    with pytest.raises(ServiceError) as refused:
        _file("12345678904", place)  # deliberately invalid: the check digit of 1234567890 is 3
    assert (
        "住民票コードの検査数字が正しくありません（末尾は 3 のはずです）"
        in refused.value.message_dict["juminhyo_code"][0]
    )
    assert _counts() == before


def test_a_typed_valid_code_is_kept(as_clerk):
    result = _file(juminhyo_code_for(7))
    assert FilingPerson.objects.get(filing=result.filing).juminhyo_code == juminhyo_code_for(7)
    assert result.entries[0].juminhyo_code == juminhyo_code_for(7)
