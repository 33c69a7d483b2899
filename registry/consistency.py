"""The rules that tie the two registers together, checked over the whole database (nightly batch and tests).

1. Every current 住民票 whose 本籍 is in the ward has a current 附票 row (same 住民票コード) in a current 戸籍 with the
   same 本籍 and 筆頭者, the same 氏名・カナ・生年月日・性別, and the ward address of the 住民票 as its current address.
2. Every current 附票 row whose current address is in the ward belongs to a current 住民票 with that 住民票コード.
3. Every member of a 世帯 lives at the 世帯's address, and every 世帯 with members has its 世帯主 (at most one is
   enforced by the database; none — 世帯主不在 after a death or a departure — is reported until a 世帯主変更 is
   recorded).

Queries stream in chunks so that the check runs in constant memory at a million residents.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Min, Q

from common.items import IDENTITY_ITEMS
from koseki_fuhyo.choices import EntryStatus, KosekiStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry

from .addresses import with_katagaki
from .choices import ResidentStatus
from .models import Resident
from .relationships import HEAD

CHUNK = 2_000  # rows fetched per round trip by iterator(); keeps memory flat


@dataclass(frozen=True)
class Inconsistency:
    rule: str
    resident_id: int | None
    fuhyo_entry_id: int | None
    message: str

    def __str__(self) -> str:
        ids = f"住民票#{self.resident_id} " if self.resident_id else ""
        ids += f"附票記載#{self.fuhyo_entry_id} " if self.fuhyo_entry_id else ""
        return f"[{self.rule}] {ids}{self.message}"


def _resident_vs_entry(resident: Resident, entry: FuhyoEntry | None, address: FuhyoAddress | None):
    if entry is None:
        yield "本籍が区内なのに附票に在籍者が見つかりません"
        return
    koseki = entry.koseki
    if koseki.status != KosekiStatus.CURRENT:
        yield "附票の戸籍が除籍されています"
    if koseki.honseki_address != resident.honseki_address:
        yield "本籍（地番）が附票の戸籍と一致しません"
    if koseki.hittousha_name != resident.hittousha_name:
        yield "筆頭者の氏名が附票の戸籍と一致しません"
    for field in IDENTITY_ITEMS:
        if getattr(entry, field) != getattr(resident, field):
            yield f"{Resident._meta.get_field(field).verbose_name}が附票と一致しません"
    if address is None:
        yield "附票に現住所がありません"
    elif (
        address.is_abroad
        or address.municipality_id != settings.WARD_LG_CODE
        or address.address != with_katagaki(resident.address, resident.katagaki)
    ):
        yield "附票の現住所が住民票の住所と一致しません"
    elif address.established_on != resident.address_established_on:
        yield "附票の住所を定めた年月日が住民票と一致しません"


def _chunks(queryset, size: int):
    """Keyset pagination by id: constant memory and no long-running cursor on a million rows."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def iter_inconsistencies() -> Iterator[Inconsistency]:
    ward = settings.WARD_LG_CODE
    residents = Resident.objects.filter(status=ResidentStatus.CURRENT, honseki_municipality_id=ward)
    for chunk in _chunks(residents, CHUNK):
        codes = [r.juminhyo_code for r in chunk]
        entries = {
            e.juminhyo_code: e
            for e in FuhyoEntry.objects.filter(juminhyo_code__in=codes, status=EntryStatus.CURRENT).select_related(
                "koseki"
            )
        }
        addresses = {
            a.entry_id: a
            for a in FuhyoAddress.objects.filter(entry_id__in=[e.pk for e in entries.values()], is_current=True)
        }
        for resident in chunk:
            entry = entries.get(resident.juminhyo_code)
            address = addresses.get(entry.pk) if entry else None
            for problem in _resident_vs_entry(resident, entry, address):
                yield Inconsistency("住民票→附票", resident.pk, entry.pk if entry else None, problem)

    current_in_ward = (
        FuhyoAddress.objects.filter(is_current=True, municipality_id=ward, entry__status=EntryStatus.CURRENT)
        .values_list("entry_id", "entry__juminhyo_code")
        .order_by("entry_id")
    )
    batch: list[tuple[int, str]] = []
    for row in current_in_ward.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            yield from _entries_without_resident(batch)
            batch = []
    yield from _entries_without_resident(batch)

    mismatched = (
        Resident.objects.filter(status=ResidentStatus.CURRENT)
        .exclude(address=F("household__address"), katagaki=F("household__katagaki"))
        .values_list("id", flat=True)
    )
    for resident_id in mismatched.iterator(chunk_size=CHUNK):
        yield Inconsistency("世帯", resident_id, None, "世帯員の住所が世帯の住所と一致しません")

    headless = (
        Resident.objects.filter(status=ResidentStatus.CURRENT)
        .values("household_id")
        .annotate(heads=Count("id", filter=Q(relationship=HEAD)), first=Min("id"))
        .filter(heads=0)
        .order_by("household_id")
    )
    for row in headless.iterator(chunk_size=CHUNK):
        yield Inconsistency("世帯", row["first"], None, "世帯主不在の世帯です（世帯主変更の届出を確認してください）")


def _entries_without_resident(batch: list[tuple[int, str]]) -> Iterator[Inconsistency]:
    codes = {code for _, code in batch if code}
    living = set(
        Resident.objects.filter(juminhyo_code__in=codes, status=ResidentStatus.CURRENT).values_list(
            "juminhyo_code", flat=True
        )
    )
    for entry_id, code in batch:
        if code not in living:
            yield Inconsistency("附票→住民票", None, entry_id, "附票の現住所が区内なのに住民票がありません")
