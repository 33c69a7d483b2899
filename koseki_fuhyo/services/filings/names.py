"""戸籍届出 that change names: 氏の変更 (107条), 名の変更 (107条の2), 氏名の振り仮名の届."""

from django.db import transaction

from common.errors import ServiceError
from registry import services as registry_services
from registry.rules import Problems
from registry.services import validation as v

from ...choices import EntryStatus, FilingKind
from ...models import Koseki
from .. import fuhyo
from .base import (
    FiledPerson,
    FilingHeader,
    FilingResult,
    Run,
    begin,
    clean_new_name,
    finish,
    resident_for_code,
    update_resident,
)


@transaction.atomic
def file_surname_change(header: FilingHeader, koseki: Koseki, new_surname: str, new_surname_kana: str) -> FilingResult:
    """氏の変更届 (107条): the 氏 of the 戸籍 changes for every member in it, on the 附票 and the 住民票, and the
    筆頭者の氏名 of every member's 住民票 with it."""
    new_surname, new_surname_kana = clean_new_name(new_surname, new_surname_kana, "new_surname")
    koseki = Koseki.objects.select_for_update().get(pk=koseki.pk)
    if not koseki.is_current:
        raise ServiceError({"koseki": ["除籍された戸籍の氏は変更できません。"]})
    if new_surname == koseki.hittousha_surname:
        raise ServiceError({"new_surname": ["新しい氏が今の氏と同じです。"]})
    members = list(koseki.entries.filter(status=EntryStatus.CURRENT).order_by("position"))
    run = begin(
        FilingKind.SURNAME_CHANGE, header, [FiledPerson(entry=e) for e in members], {"new_surname": new_surname}
    )
    koseki.hittousha_surname = new_surname
    koseki.save(update_fields=["hittousha_surname", "updated_at"])
    for person in run.persons:
        changes = {"surname": new_surname, "surname_kana": new_surname_kana}
        run.result.events.append(fuhyo.amend_person(person.entry, changes, "氏の変更", run.group, filing=run.filing))
        update_resident(run, person, changes | {"hittousha_name": koseki.hittousha_name})
    _sync_hittousha_of_others(run, koseki)
    return finish(run)


@transaction.atomic
def file_given_name_change(
    header: FilingHeader, subject: FiledPerson, new_given_name: str, new_given_name_kana: str
) -> FilingResult:
    """名の変更届 (107条の2): the person's 名 and its カナ change; when the person is 筆頭者, so does the 筆頭者の氏名
    on the 住民票 of every member of the 戸籍."""
    new_given_name, new_given_name_kana = clean_new_name(new_given_name, new_given_name_kana, "new_given_name")
    if subject.entry is None:
        raise ServiceError({"persons": ["名の変更は区の戸籍にある人について受け付けます。"]})
    run = begin(FilingKind.GIVEN_NAME_CHANGE, header, [subject], {"new_given_name": new_given_name})
    person = run.persons[0]
    entry = person.entry
    koseki = Koseki.objects.select_for_update().get(pk=entry.koseki_id)
    was_hittousha = koseki.hittousha_name == entry.name
    changes = {"given_name": new_given_name, "given_name_kana": new_given_name_kana}
    if was_hittousha:  # first, so that the 附票's event carries the new 筆頭者
        koseki.hittousha_given_name = new_given_name
        koseki.save(update_fields=["hittousha_given_name", "updated_at"])
    run.result.events.append(fuhyo.amend_person(entry, changes, "名の変更", run.group, filing=run.filing))
    if was_hittousha:
        changes |= {"hittousha_name": koseki.hittousha_name}
    update_resident(run, person, changes)
    if was_hittousha:
        _sync_hittousha_of_others(run, koseki, exclude={entry.pk})
    return finish(run)


@transaction.atomic
def file_furigana(header: FilingHeader, subject: FiledPerson, surname_kana: str, given_name_kana: str) -> FilingResult:
    """氏名の振り仮名の届 (令和5年改正, 2025-05-26 施行): the カナ of 氏 and 名 as the 戸籍 now records them."""
    if subject.entry is None:
        raise ServiceError({"persons": ["振り仮名の届は区の戸籍にある人について受け付けます。"]})
    surname_kana, given_name_kana = _clean_kana_pair(surname_kana, given_name_kana)
    run = begin(FilingKind.FURIGANA, header, [subject], {})
    person = run.persons[0]
    changes = {"surname_kana": surname_kana, "given_name_kana": given_name_kana}
    run.result.events.append(fuhyo.amend_person(person.entry, changes, "振り仮名", run.group, filing=run.filing))
    update_resident(run, person, changes)
    return finish(run)


def _clean_kana_pair(surname_kana: str, given_name_kana: str) -> tuple[str, str]:
    problems = Problems()
    surname_kana = v.clean_kana_field(problems, "surname_kana", surname_kana)
    given_name_kana = v.clean_kana_field(problems, "given_name_kana", given_name_kana)
    problems.raise_if_any()
    return surname_kana, given_name_kana


def _sync_hittousha_of_others(run: Run, koseki: Koseki, exclude: set[int] = frozenset()) -> None:
    """Members of the 戸籍 not already handled get the new 筆頭者の氏名 on their 住民票."""
    handled = {p.entry.pk for p in run.persons if p.entry is not None} | set(exclude)
    for entry in koseki.entries.filter(status=EntryStatus.CURRENT).exclude(pk__in=handled):
        resident = resident_for_code(entry.juminhyo_code)
        if resident is not None:
            run.add_resident_result(
                registry_services.apply_koseki_change(
                    resident,
                    {"hittousha_name": koseki.hittousha_name},
                    change_date=run.date,
                    notified_on=run.filing.filed_on,
                    filing=run.filing,
                    note=run.filing.get_kind_display(),
                )
            )
