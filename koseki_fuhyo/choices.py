"""Code lists of the 戸籍 and its 附票 (domain.md §3.3, §3.4)."""

from django.db import models


class KosekiStatus(models.TextChoices):
    CURRENT = "current", "現在戸籍"
    CLOSED = "closed", "除籍"


class EntryStatus(models.TextChoices):
    """A person's row in the 附票: 在籍 while in the 戸籍; 消除 once removed from it (除籍, 死亡 …)."""

    CURRENT = "current", "在籍"
    REMOVED = "removed", "消除"


class FuhyoRecordKind(models.TextChoices):
    """附票本人確認情報の事由 (施行令第30条の12の3): what J-LIS is told for each change of a 附票."""

    ENTRY = "entry", "記載"
    REMOVAL = "removal", "消除"
    AMENDMENT = "amendment", "記載の修正"
    CODE_AMENDMENT = "code_amendment", "住民票コードの記載の修正"


class FilingKind(models.TextChoices):
    """戸籍届出事件 (戸籍法; domain.md §3.3)."""

    BIRTH = "birth", "出生"
    RECOGNITION = "recognition", "認知"
    ADOPTION = "adoption", "養子縁組"
    ADOPTION_DISSOLUTION = "adoption_dissolution", "養子離縁"
    SPECIAL_ADOPTION = "special_adoption", "特別養子縁組"
    SPECIAL_ADOPTION_DISSOLUTION = "special_adoption_dissolution", "特別養子離縁"
    MARRIAGE = "marriage", "婚姻"
    DIVORCE = "divorce", "離婚"
    DIVORCE_SURNAME = "divorce_surname", "離婚の際に称していた氏を称する届"
    ADOPTION_SURNAME = "adoption_surname", "離縁の際に称していた氏を称する届"
    PARENTAL_AUTHORITY = "parental_authority", "親権"
    GUARDIANSHIP = "guardianship", "未成年後見"
    DEATH = "death", "死亡"
    DISAPPEARANCE = "disappearance", "失踪"
    SURNAME_RESTORATION = "surname_restoration", "生存配偶者の復氏"
    AFFINITY_TERMINATION = "affinity_termination", "姻族関係終了"
    DISINHERITANCE = "disinheritance", "推定相続人廃除"
    ENTRY = "entry", "入籍"
    BRANCH = "branch", "分籍"
    NATIONALITY_ACQUISITION = "nationality_acquisition", "国籍取得"
    NATURALIZATION = "naturalization", "帰化"
    NATIONALITY_LOSS = "nationality_loss", "国籍喪失"
    NATIONALITY_RESERVATION = "nationality_reservation", "国籍留保"
    NATIONALITY_CHOICE = "nationality_choice", "国籍選択"
    FOREIGN_NATIONALITY_LOSS = "foreign_nationality_loss", "外国国籍喪失"
    SURNAME_CHANGE = "surname_change", "氏の変更"
    GIVEN_NAME_CHANGE = "given_name_change", "名の変更"
    HONSEKI_TRANSFER = "honseki_transfer", "転籍"
    REGISTRATION = "registration", "就籍"
    FURIGANA = "furigana", "氏名の振り仮名の届"


ARTICLE_OF: dict[str, str] = {
    FilingKind.BIRTH: "49条",
    FilingKind.RECOGNITION: "60条",
    FilingKind.ADOPTION: "66条",
    FilingKind.ADOPTION_DISSOLUTION: "70条",
    FilingKind.SPECIAL_ADOPTION: "68条の2",
    FilingKind.SPECIAL_ADOPTION_DISSOLUTION: "73条",
    FilingKind.MARRIAGE: "74条",
    FilingKind.DIVORCE: "76条",
    FilingKind.DIVORCE_SURNAME: "77条の2",
    FilingKind.ADOPTION_SURNAME: "73条の2",
    FilingKind.PARENTAL_AUTHORITY: "78条",
    FilingKind.GUARDIANSHIP: "81条",
    FilingKind.DEATH: "86条",
    FilingKind.DISAPPEARANCE: "94条",
    FilingKind.SURNAME_RESTORATION: "95条",
    FilingKind.AFFINITY_TERMINATION: "96条",
    FilingKind.DISINHERITANCE: "97条",
    FilingKind.ENTRY: "98条",
    FilingKind.BRANCH: "100条",
    FilingKind.NATIONALITY_ACQUISITION: "102条",
    FilingKind.NATURALIZATION: "102条の2",
    FilingKind.NATIONALITY_LOSS: "103条",
    FilingKind.NATIONALITY_RESERVATION: "104条",
    FilingKind.NATIONALITY_CHOICE: "104条の2",
    FilingKind.FOREIGN_NATIONALITY_LOSS: "106条",
    FilingKind.SURNAME_CHANGE: "107条",
    FilingKind.GIVEN_NAME_CHANGE: "107条の2",
    FilingKind.HONSEKI_TRANSFER: "108条",
    FilingKind.REGISTRATION: "110条",
    FilingKind.FURIGANA: "附則（令和5年法律第48号）",
}


class WardRole(models.TextChoices):
    """Why this ward handles the 届出."""

    HONSEKICHI = "honsekichi", "本籍地"
    SHOZAICHI = "shozaichi", "届出人の所在地"
    OCCURRENCE = "occurrence", "出生地・死亡地"
    NEW_HONSEKICHI = "new_honsekichi", "新本籍地"


class FilingStatus(models.TextChoices):
    ACCEPTED = "accepted", "受理"
    RECORDED = "recorded", "戸籍記載済"


class FilingPersonRole(models.TextChoices):
    SUBJECT = "subject", "事件本人"
    NOTIFIER = "notifier", "届出人"
    SPOUSE = "spouse", "配偶者"
    FATHER = "father", "父"
    MOTHER = "mother", "母"
    CHILD = "child", "子"
    ADOPTER = "adopter", "養親"
    ADOPTEE = "adoptee", "養子"
    RECOGNIZER = "recognizer", "認知する父"
    GUARDIAN = "guardian", "後見人"
