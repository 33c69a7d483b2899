"""The person a notice is about, opened through the gate: a restricted person answers 404 to whoever holds no
grant, and the access entry names the record (住民票 ids as subject ids, 附票 rows under `fuhyo_entry_ids`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.gate import Access, RestrictedRecord
from audit.log import record_permission_event
from audit.restrictions import may_open

from ..models import InboundNotice, OutboundNotice

if TYPE_CHECKING:
    from koseki_fuhyo.models import FuhyoEntry
    from registry.models import Resident


@dataclass(frozen=True)
class NoticePerson:
    resident: Resident | None = None
    fuhyo_entry: FuhyoEntry | None = None
    # The persons of the 戸籍届出 that caused the notice (a 転籍 carries every member of the 戸籍): each is opened too.
    others: tuple[Resident | FuhyoEntry, ...] = ()

    def __bool__(self) -> bool:
        return self.resident is not None or self.fuhyo_entry is not None or bool(self.others)


def of_outbound(notice: OutboundNotice) -> NoticePerson:
    """The person of the change that caused the notice, or of the inbound notice it answers (本籍照合通知)."""
    if (event := notice.event) is not None:
        others: tuple[Resident | FuhyoEntry, ...] = ()
        if (filing := event.filing) is not None:
            filed = filing.persons.select_related("resident", "fuhyo_entry")
            others = tuple(r for p in filed for r in (p.resident, p.fuhyo_entry) if r is not None)
        return NoticePerson(event.resident, event.fuhyo_entry, others)
    if (answered := notice.in_reply_to) is not None:
        return of_inbound(answered)
    return NoticePerson()


def of_inbound(inbound: InboundNotice) -> NoticePerson:
    return NoticePerson(inbound.resident, inbound.fuhyo_entry)


def open_person(access: Access, person: NoticePerson) -> NoticePerson:
    """Open every record of the person the page shows; RestrictedRecord (→ 404, `denied`) for one this user may not
    open."""
    for record in person.others:
        if not may_open(access.request.user, record):
            raise RestrictedRecord(record)
    if person.resident is not None:
        access.open(person.resident)
    if person.fuhyo_entry is not None:
        if not may_open(access.request.user, person.fuhyo_entry):
            raise RestrictedRecord(person.fuhyo_entry)
        if person.fuhyo_entry.access_restricted:  # opened by a grant: the use of the grant is logged, as for 住民票
            record_permission_event(
                "use",
                actor=access.request.user,
                subject_kind="fuhyo_entry",
                subject_ids=[person.fuhyo_entry.pk],
                details={"view": access.action},
                request=access.request,
            )
        access.conditions.setdefault("fuhyo_entry_ids", []).append(person.fuhyo_entry.pk)
    return person
