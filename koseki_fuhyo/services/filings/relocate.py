"""戸籍届出 by which persons move between 戸籍: 婚姻 (74条), the 入除籍を伴う届 (縁組, 離縁, 離婚, 復氏, 入籍, 分籍 …),
and 転籍 (108条)."""

from django.db import transaction

from common.errors import ServiceError, full_clean_or_raise

from ...choices import EntryStatus, FilingKind, FilingPersonRole
from ...models import Koseki
from .. import fuhyo
from .. import koseki as koseki_services
from .base import (
    FiledPerson,
    FilingHeader,
    FilingResult,
    KosekiPlace,
    Run,
    begin,
    clean_new_name,
    finish,
    move_to_place,
    open_place,
    place_items_of,
    update_resident,
    validate_new_place,
)

RELOCATION_KINDS = frozenset(
    {
        FilingKind.ADOPTION,
        FilingKind.ADOPTION_DISSOLUTION,
        FilingKind.SPECIAL_ADOPTION,
        FilingKind.SPECIAL_ADOPTION_DISSOLUTION,
        FilingKind.DIVORCE,
        FilingKind.DIVORCE_SURNAME,
        FilingKind.ADOPTION_SURNAME,
        FilingKind.SURNAME_RESTORATION,
        FilingKind.ENTRY,
        FilingKind.BRANCH,
    }
)


@transaction.atomic
def file_marriage(
    header: FilingHeader,
    husband: FiledPerson,
    wife: FiledPerson,
    *,
    surname_from: str,
    place: KosekiPlace,
) -> FilingResult:
    """婚姻届 (74条): the couple takes the 氏 of `surname_from` ("husband" or "wife") and is written in `place`: a new
    戸籍 (in the ward or elsewhere) whose 筆頭者 is that spouse, or the 戸籍 of which that spouse is already 筆頭者.
    Each spouse leaves a 戸籍 of the ward they were in; the other spouse's 氏 and カナ change on 附票 and 住民票."""
    if surname_from not in ("husband", "wife"):
        raise ServiceError({"surname_from": ["婚姻後の氏（夫の氏・妻の氏）を選んでください。"]})
    husband = FiledPerson(**{**husband.__dict__, "role": FilingPersonRole.SUBJECT})
    wife = FiledPerson(**{**wife.__dict__, "role": FilingPersonRole.SPOUSE})
    run = begin(FilingKind.MARRIAGE, header, [husband, wife], {"surname_from": surname_from})
    keeper, changer = (
        (run.persons[0], run.persons[1]) if surname_from == "husband" else (run.persons[1], run.persons[0])
    )
    k = keeper.identity()
    if place.koseki is None:
        place = KosekiPlace(
            honseki_municipality=place.honseki_municipality,
            honseki_address=place.honseki_address,
            hittousha_surname=k["surname"],
            hittousha_given_name=k["given_name"],
        )
    elif place.koseki.hittousha_name != f"{k['surname']}　{k['given_name']}":
        raise ServiceError({"koseki": ["既存の戸籍に入るのは、その戸籍の筆頭者の氏を称するときだけです。"]})
    place = open_place(run, place, "婚姻")
    move_to_place(run, keeper, place, "婚姻")
    move_to_place(run, changer, place, "婚姻", new_surname=k["surname"], new_surname_kana=k["surname_kana"])
    return finish(run)


@transaction.atomic
def file_relocation(
    kind: str,
    header: FilingHeader,
    subjects: list[FiledPerson],
    place: KosekiPlace,
    *,
    new_surname: str | None = None,
    new_surname_kana: str | None = None,
    others: list[FiledPerson] = (),
) -> FilingResult:
    """養子縁組 (66条), 養子離縁 (70条), 特別養子縁組・離縁, 離婚 (76条), 77条の2・73条の2 の届,
    生存配偶者の復氏 (95条),
    入籍 (98条), 分籍 (100条): each subject leaves the 戸籍 of the ward they are in (if any) and enters `place`,
    taking `new_surname` when the 氏 changes. For a new 戸籍 the 筆頭者 is the first subject unless given."""
    if kind not in RELOCATION_KINDS:
        raise ServiceError({"kind": ["この届出事件は入除籍を伴う届出ではありません。"]})
    if not subjects:
        raise ServiceError({"persons": ["事件本人を入力してください。"]})
    new_surname, new_surname_kana = clean_new_name(new_surname, new_surname_kana, "new_surname")
    run = begin(kind, header, [*subjects, *others], {"new_surname": new_surname})
    label = FilingKind(kind).label
    first = run.persons[0].identity()
    if place.koseki is None and not place.hittousha_surname:
        place = KosekiPlace(
            honseki_municipality=place.honseki_municipality,
            honseki_address=place.honseki_address,
            hittousha_surname=new_surname or first["surname"],
            hittousha_given_name=first["given_name"],
        )
    place = open_place(run, place, label)
    for person in run.persons[: len(subjects)]:
        if person.entry is None and person.resident is None and not person.spec.address_municipality:
            raise ServiceError(
                {"persons": ["事件本人が区の戸籍にも住民票にも見つかりません。住所を入力してください。"]}
            )
        current_surname = person.identity()["surname"]
        changing = new_surname is not None and new_surname != current_surname
        move_to_place(
            run,
            person,
            place,
            label,
            new_surname=new_surname if changing else None,
            new_surname_kana=new_surname_kana if changing else None,
        )
    return finish(run)


@transaction.atomic
def file_honseki_transfer(header: FilingHeader, koseki: Koseki, new_place: KosekiPlace) -> FilingResult:
    """転籍届 (108条): the whole 戸籍 moves to a new 本籍. Within the ward (管内転籍) the 本籍 of the same 戸籍 is
    corrected: no new 戸籍, the 附票 continues with its address history under the corrected 戸籍の表示, J-LIS gets
    one 修正 per member and the 住民票 follow. To another municipality every member leaves, the 戸籍
    is closed and the new 本籍地 is told by the 本籍転属通知."""
    if new_place.koseki is not None:
        raise ServiceError({"koseki": ["転籍先には新しい本籍を指定してください。"]})
    koseki = Koseki.objects.select_for_update().get(pk=koseki.pk)
    if not koseki.is_current:
        raise ServiceError({"koseki": ["除籍された戸籍は転籍できません。"]})
    if new_place.in_ward and new_place.honseki_address.strip() == koseki.honseki_address:
        raise ServiceError({"honseki_address": ["新しい本籍が今の本籍と同じです。"]})
    members = list(koseki.entries.filter(status=EntryStatus.CURRENT).order_by("position"))
    subjects = [FiledPerson(role=FilingPersonRole.SUBJECT, entry=e) for e in members]
    new_place = KosekiPlace(
        honseki_municipality=new_place.honseki_municipality,
        honseki_address=new_place.honseki_address,
        hittousha_surname=koseki.hittousha_surname,
        hittousha_given_name=koseki.hittousha_given_name,
    )
    run = begin(
        FilingKind.HONSEKI_TRANSFER, header, subjects, {"from_koseki": koseki.pk, "to": place_items_of(new_place)}
    )
    if new_place.in_ward:
        return _transfer_within_ward(run, koseki, new_place)
    place = open_place(run, new_place, "転籍")
    for person in run.persons:
        move_to_place(run, person, place, "転籍", close_reason="転籍")
    koseki_services.close_if_empty(koseki, run.date, "転籍", run.group, filing=run.filing)
    return finish(run)


def _transfer_within_ward(run: Run, koseki: Koseki, new_place: KosekiPlace) -> FilingResult:
    validate_new_place(new_place)
    koseki.honseki_address = new_place.honseki_address.strip()
    full_clean_or_raise(koseki, validate_constraints=True)
    koseki.save(update_fields=["honseki_address", "updated_at"])
    for person in run.persons:
        run.result.events.append(fuhyo.koseki_display_corrected(person.entry, "転籍", run.group, filing=run.filing))
        update_resident(run, person, {"honseki_address": koseki.honseki_address})
    return finish(run)
