"""URLs of 戸籍届出 entry (届出受付: form → 確認 → 記録): `filings/<kind>/` for every 届出事件 (FilingKind), each
served by the screen of the service that records it (SERVICE_FOR_KIND). A 戸籍 page links `filings/<kind>/?koseki=<id>`
to offer that 戸籍's members; `?code=<住民票コード>` fills in the first person."""

from django.urls import path

from .choices import FilingKind
from .services import filings
from .services.filings import SERVICE_FOR_KIND
from .views_filings import enter, leave, menu, names, records, relocate

app_name = "koseki_filings"

SCREEN_FOR_SERVICE = {
    filings.file_birth: enter.file_birth,
    filings.file_new_national: enter.file_new_national,
    filings.file_death: leave.file_death,
    filings.file_marriage: relocate.file_marriage,
    filings.file_relocation: relocate.file_relocation,
    filings.file_honseki_transfer: relocate.file_honseki_transfer,
    filings.file_surname_change: names.file_surname_change,
    filings.file_given_name_change: names.file_given_name_change,
    filings.file_furigana: names.file_furigana,
    filings.file_record_only: records.file_record_only,
}

urlpatterns = [
    path("", menu.menu, name="menu"),
    path("done/<int:filing_id>/", menu.filing, name="filing"),
    *(
        path(f"{kind}/", SCREEN_FOR_SERVICE[SERVICE_FOR_KIND[kind]], {"kind": kind}, name=kind)
        for kind in FilingKind.values
    ),
]
