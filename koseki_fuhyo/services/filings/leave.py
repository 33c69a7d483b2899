"""戸籍届出 by which a person leaves the 戸籍: 死亡 (86条), 失踪 (94条), 国籍喪失 (103条)."""

import datetime as dt

from django.db import transaction

from common.errors import ServiceError
from registry import services as registry_services
from registry.models import Resident

from ...choices import FilingKind
from .. import fuhyo
from .. import koseki as koseki_services
from .base import FiledPerson, FilingHeader, FilingResult, begin, finish


@transaction.atomic
def file_death(
    header: FilingHeader,
    subject: FiledPerson,
    *,
    date_of_death: dt.date,
    kind: str = FilingKind.DEATH,
    remaining_head: Resident | None = None,
    relationships: dict[int, str] | None = None,
    notifier: FiledPerson | None = None,
) -> FilingResult:
    """死亡届 (86条), 失踪 (94条, 失踪宣告の届), 国籍喪失 (103条): the person is removed from the 戸籍 and the
    附票, and a
    resident's 住民票 becomes a 除票. A 戸籍 left without members is closed (全員除籍)."""
    if kind not in (FilingKind.DEATH, FilingKind.DISAPPEARANCE, FilingKind.NATIONALITY_LOSS):
        raise ServiceError({"kind": ["死亡・失踪・国籍喪失の届出ではありません。"]})
    if date_of_death > (header.accepted_on or header.filed_on):
        raise ServiceError({"date_of_death": ["死亡（失踪・喪失）の日が届出の受理日より後になっています。"]})
    run = begin(kind, header, [subject, *([notifier] if notifier else [])], {"date": date_of_death})
    person = run.persons[0]
    label = FilingKind(kind).label
    if person.entry is None and person.resident is None and not subject.address_municipality:
        raise ServiceError({"persons": ["事件本人が区の戸籍にも住民票にも見つかりません。住所を入力してください。"]})
    if person.entry is not None:
        run.result.events.append(fuhyo.remove_person(person.entry, date_of_death, label, run.group, filing=run.filing))
        koseki_services.close_if_empty(person.entry.koseki, run.date, "全員除籍", run.group, filing=run.filing)
    if person.resident is not None:
        if kind == FilingKind.DEATH:
            removal = registry_services.death(
                person.resident,
                date_of_death=date_of_death,
                notified_on=header.filed_on,
                remaining_head=remaining_head,
                relationships=relationships,
                filing=run.filing,
            )
        else:
            removal = registry_services.ex_officio_removal(
                [person.resident],
                change_date=date_of_death,
                note=label,
                remaining_head=remaining_head,
                relationships=relationships,
                filing=run.filing,
            )
        run.add_resident_result(removal)
    person.removed = True
    person.juminhyo_changes = {"removed": kind, "date": date_of_death}
    return finish(run)
