"""The 戸籍の附票: recording a person, an address, a removal; and keeping it in step with the 住民票.

When a resident whose 本籍 is in the ward changes address, the 附票 takes the new address in the same transaction (both
ends are this ward: nothing is transmitted, both registers change together). The person is found by 住民票コード and the
identity items must agree (氏名, カナ, 生年月日, 性別, as for a received 附票記載事項通知); when they do not, nothing is
changed and a `fuhyo.unmatched` event waits for a clerk — the same treatment an inbound 附票記載事項通知 from another
municipality gets.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from audit.visibility import person_is_restricted, require_may_change
from common.errors import full_clean_or_raise
from common.events import record_event
from common.items import IDENTITY_ITEMS
from common.models import ChangeEvent, Municipality
from common.municipalities import ward
from registry.addresses import with_katagaki
from registry.choices import reason_label

from ..choices import EntryStatus, FuhyoRecordKind
from ..models import FuhyoAddress, FuhyoEntry, Koseki
from ..payloads import fuhyo_items


@dataclass(frozen=True)
class AddressData:
    """An address for the 附票: a municipality and the rest, or 国外 with a country."""

    municipality: Municipality | None
    address: str = ""
    is_abroad: bool = False
    country: str = ""


def current_entry_for_code(juminhyo_code: str, *, lock: bool = False) -> FuhyoEntry | None:
    if not juminhyo_code:
        return None
    qs = FuhyoEntry.objects.filter(juminhyo_code=juminhyo_code, status=EntryStatus.CURRENT).select_related("koseki")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.first()


def identity_differences(entry: FuhyoEntry, person) -> list[str]:
    """Names of the identity fields in which the 附票 row and the person (a Resident or similar) differ."""
    return [f for f in IDENTITY_ITEMS if getattr(entry, f) != getattr(person, f)]


def _event(kind: str, entry: FuhyoEntry, record_kind: str, reason: str, group: uuid.UUID, filing=None) -> ChangeEvent:
    # 記録日 (what J-LIS is told, 施行令30条の12の3): the day the 附票 is written, never the 異動日 or the 受理日 of a
    # 届書 accepted days before it is recorded; the 入籍日・消除日 keep their own dates on the row.
    # The 戸籍 as it stands now: the entry's cached one may predate a change of this filing (氏の変更 renames the
    # 筆頭者 on another instance), and the event's items are what J-LIS and the 住所地 are told.
    entry.koseki = Koseki.objects.get(pk=entry.koseki_id)
    return record_event(
        kind,
        group,
        reason,
        fuhyo_items(entry, record_kind, reason, timezone.localdate()),
        fuhyo_entry=entry,
        koseki=entry.koseki,
        filing=filing,
    )


def record_address(
    entry: FuhyoEntry,
    address: AddressData,
    established_on: dt.date,
    recorded_on: dt.date,
    reason: str,
    group: uuid.UUID,
    *,
    filing=None,
) -> tuple[FuhyoAddress, ChangeEvent]:
    """A new current address line for the person (the previous line stays as history)."""
    for previous in FuhyoAddress.objects.select_for_update().filter(entry=entry, is_current=True):
        previous.is_current = False
        previous.save(update_fields=["is_current"])  # save(), not update(): the change history must see it
    line = FuhyoAddress.objects.create(
        entry=entry,
        municipality=address.municipality,
        address=address.address,
        is_abroad=address.is_abroad,
        country=address.country,
        established_on=established_on,
        recorded_on=recorded_on,
        reason=reason,
        is_current=True,
    )
    event = _event(ChangeEvent.Kind.FUHYO_AMENDED, entry, FuhyoRecordKind.AMENDMENT, reason, group, filing)
    return line, event


def enter_person(
    koseki: Koseki,
    *,
    surname: str,
    given_name: str,
    surname_kana: str,
    given_name_kana: str,
    birth_date: dt.date,
    sex: str,
    juminhyo_code: str,
    address: AddressData | None,
    address_established_on: dt.date | None,
    entered_on: dt.date,
    reason: str,
    group: uuid.UUID,
    filing=None,
) -> tuple[FuhyoEntry, ChangeEvent]:
    """記載: the person enters the 戸籍 and its 附票, with the current address when known."""
    last = koseki.entries.order_by("-position").values_list("position", flat=True).first() or 0
    entry = FuhyoEntry(
        koseki=koseki,
        position=last + 1,
        surname=surname,
        given_name=given_name,
        surname_kana=surname_kana,
        given_name_kana=given_name_kana,
        birth_date=birth_date,
        sex=sex,
        juminhyo_code=juminhyo_code,
        entered_on=entered_on,
        entered_reason=reason,
    )
    # The restriction belongs to the person: a new 戸籍 membership of a restricted person is restricted from its first
    # save (転籍, 婚姻, 入籍 …), and only an actor with a grant for the person may write it.
    entry.access_restricted = person_is_restricted(
        juminhyo_code=juminhyo_code, surname=surname, given_name=given_name, birth_date=birth_date
    )
    require_may_change(entry)
    full_clean_or_raise(entry, exclude=["koseki"], validate_constraints=True)
    entry.save()
    if address is not None:
        FuhyoAddress.objects.create(
            entry=entry,
            municipality=address.municipality,
            address=address.address,
            is_abroad=address.is_abroad,
            country=address.country,
            established_on=address_established_on or entered_on,
            recorded_on=timezone.localdate(),
            reason=reason,
            is_current=True,
        )
    event = _event(ChangeEvent.Kind.FUHYO_ENTERED, entry, FuhyoRecordKind.ENTRY, reason, group, filing)
    return entry, event


def remove_person(entry: FuhyoEntry, removed_on: dt.date, reason: str, group: uuid.UUID, *, filing=None) -> ChangeEvent:
    """消除: the person leaves the 戸籍 (死亡, 婚姻による除籍, 転籍 …); the row and its addresses stay as 除附票."""
    entry.status = EntryStatus.REMOVED
    entry.removed_on = removed_on
    entry.removed_reason = reason
    entry.save(update_fields=["status", "removed_on", "removed_reason", "updated_at"])
    return _event(ChangeEvent.Kind.FUHYO_REMOVED, entry, FuhyoRecordKind.REMOVAL, reason, group, filing)


def amend_person(entry: FuhyoEntry, changes: dict, reason: str, group: uuid.UUID, *, filing=None) -> ChangeEvent:
    """記載の修正 of identity items (氏名, カナ, 生年月日, 性別) or of the 住民票コード."""
    for field, value in changes.items():
        setattr(entry, field, value)
    full_clean_or_raise(entry, exclude=["koseki"], validate_constraints=True)
    entry.save()
    kind = FuhyoRecordKind.CODE_AMENDMENT if set(changes) == {"juminhyo_code"} else FuhyoRecordKind.AMENDMENT
    return _event(ChangeEvent.Kind.FUHYO_AMENDED, entry, kind, reason, group, filing)


def koseki_display_corrected(entry: FuhyoEntry, reason: str, group: uuid.UUID, *, filing=None) -> ChangeEvent:
    """The 戸籍の表示 of the person's 附票 was corrected (管内転籍): one 記載の修正, which J-LIS is told of."""
    return _event(ChangeEvent.Kind.FUHYO_AMENDED, entry, FuhyoRecordKind.AMENDMENT, reason, group, filing)


def ward_address(address: str, katagaki: str = "") -> AddressData:
    """A ward address as the 附票 writes it (町名・番地 and 方書)."""
    return AddressData(municipality=ward(), address=with_katagaki(address, katagaki))


def ward_address_of(resident) -> AddressData:
    return ward_address(resident.address, resident.katagaki)


def follow_code_change(old_code: str, resident, reason: str, group: uuid.UUID) -> list[ChangeEvent]:
    """A 住民票コード changed on a 住民票 whose 本籍 is in the ward: the 附票 row found by the old code takes the new
    one (a 附票 item, 住基法17条; J-LIS is told by the `fuhyo.amended` event). A row whose identity items differ from
    the 住民票 is left alone: the sync that follows reports it for a clerk."""
    if resident.honseki_municipality_id != settings.WARD_LG_CODE or old_code == resident.juminhyo_code:
        return []
    entry = current_entry_for_code(old_code, lock=True)
    if entry is None or identity_differences(entry, resident):
        return []
    label = reason_label(reason)
    return [amend_person(entry, {"juminhyo_code": resident.juminhyo_code}, label, group)]


def sync_from_resident(resident, reason: str, group: uuid.UUID) -> list[ChangeEvent]:
    """After a 住民票 change: when the 本籍 is in the ward, bring the 附票 address in line, in this transaction.

    The new line's 記録日 is the day it is written (today), not the 異動日; its 事由 is the 異動事由's label (転入,
    転居 …), as every other 附票 line says it.

    Returns the events written: none when the 本籍 is elsewhere (the notice router sends a 附票記載事項通知 instead)
    or when the 附票 already shows this address; `fuhyo.unmatched` when the person cannot be matched.
    """
    if resident.honseki_municipality_id != settings.WARD_LG_CODE:
        return []
    entry = current_entry_for_code(resident.juminhyo_code, lock=True)
    differences = identity_differences(entry, resident) if entry else []
    if entry is None or differences or entry.koseki.honseki_address != resident.honseki_address:
        payload = {
            "resident_id": resident.pk,
            "juminhyo_code": resident.juminhyo_code,
            "reason": reason,
            "fuhyo_entry_id": entry.pk if entry else None,
            "differences": differences
            + (["honseki_address"] if entry and entry.koseki.honseki_address != resident.honseki_address else []),
        }
        return [
            record_event(
                ChangeEvent.Kind.FUHYO_UNMATCHED,
                group,
                reason,
                payload,
                resident=resident,
                fuhyo_entry=entry,
                koseki=entry.koseki if entry else None,
            )
        ]
    wanted = ward_address_of(resident)
    current = entry.current_address()
    if (
        current is not None
        and not current.is_abroad
        and current.municipality_id == wanted.municipality.code
        and current.address == wanted.address
        and current.established_on == resident.address_established_on
    ):
        return []
    label = reason_label(reason)
    _, event = record_address(entry, wanted, resident.address_established_on, timezone.localdate(), label, group)
    return [event]
