"""戸籍届出: one function per 届出事件 (domain.md §3.3), each in one transaction.

Each records the 届出 (KosekiFiling with the persons it concerns), changes the 戸籍 rows and the 附票 of this ward,
and — when a person concerned lives in the ward — the 住民票 through the registry services (氏名・本籍・筆頭者, 出生,
死亡). A person who lives elsewhere is listed in the `koseki.filed` event with the new 住民票 items, so that the
notice router can send the 住民票記載事項通知 (住基法9条2項) to that 住所地.

Effects by family:
- record only (認知, 親権, 未成年後見, 姻族関係終了, 推定相続人廃除, 国籍留保, 国籍選択, 外国国籍喪失): the 戸籍 gains a
  身分事項, but nothing that the 附票 or the 住民票 carries changes;
- a person enters a 戸籍 (出生, 帰化, 国籍取得, 就籍);
- a person leaves (死亡, 失踪, 国籍喪失);
- persons move from one 戸籍 to another, often with a new 氏 (婚姻, 離婚, 養子縁組, 離縁, 特別養子縁組・離縁, 入籍,
  分籍, 生存配偶者の復氏, 77条の2・73条の2 届);
- the whole 戸籍 moves (転籍), or its members' names change (氏の変更, 名の変更, 氏名の振り仮名).

One module per family, like the 届出 screens (filing_forms/, views_filings/): records, enter, leave, relocate, names;
what they share is in base. Every public name is importable from `koseki_fuhyo.services.filings`.
"""

from ...choices import FilingKind
from .base import FiledPerson, FilingHeader, FilingResult, KosekiPlace
from .enter import NEW_NATIONAL_KINDS, Newborn, NewNational, file_birth, file_new_national
from .leave import file_death
from .names import file_furigana, file_given_name_change, file_surname_change
from .records import RECORD_ONLY_KINDS, file_record_only
from .relocate import RELOCATION_KINDS, file_honseki_transfer, file_marriage, file_relocation

# Which service records each 届出事件: every kind of FilingKind has exactly one (a test holds this).
SERVICE_FOR_KIND: dict[str, object] = {
    **dict.fromkeys(RECORD_ONLY_KINDS, file_record_only),
    **dict.fromkeys(RELOCATION_KINDS, file_relocation),
    **dict.fromkeys(NEW_NATIONAL_KINDS, file_new_national),
    FilingKind.BIRTH: file_birth,
    FilingKind.DEATH: file_death,
    FilingKind.DISAPPEARANCE: file_death,
    FilingKind.NATIONALITY_LOSS: file_death,
    FilingKind.MARRIAGE: file_marriage,
    FilingKind.HONSEKI_TRANSFER: file_honseki_transfer,
    FilingKind.SURNAME_CHANGE: file_surname_change,
    FilingKind.GIVEN_NAME_CHANGE: file_given_name_change,
    FilingKind.FURIGANA: file_furigana,
}

__all__ = [
    "NEW_NATIONAL_KINDS",
    "RECORD_ONLY_KINDS",
    "RELOCATION_KINDS",
    "SERVICE_FOR_KIND",
    "FiledPerson",
    "FilingHeader",
    "FilingResult",
    "KosekiPlace",
    "NewNational",
    "Newborn",
    "file_birth",
    "file_death",
    "file_furigana",
    "file_given_name_change",
    "file_honseki_transfer",
    "file_marriage",
    "file_new_national",
    "file_record_only",
    "file_relocation",
    "file_surname_change",
]
