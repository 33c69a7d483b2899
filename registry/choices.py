"""Code lists of the 住民基本台帳 (domain.md §3)."""

from django.db import models


class Sex(models.TextChoices):
    """男女の別 (JIS X 0303 codes)."""

    MALE = "1", "男"
    FEMALE = "2", "女"


class ResidentStatus(models.TextChoices):
    CURRENT = "current", "現存"
    REMOVED = "removed", "除票"


class ChangeClass(models.TextChoices):
    """異動の区分 of the standard specification: every 異動事由 belongs to one."""

    ENTRY = "entry", "記載"
    REMOVAL = "removal", "消除"
    AMENDMENT = "amendment", "修正"


class ChangeReason(models.TextChoices):
    """異動事由 (住民記録システム標準仕様書 §1.2.2). A 転居取消 reason must not exist (the spec forbids it)."""

    # 記載
    MOVE_IN = "move_in", "転入"
    MOVE_IN_FROM_ABROAD = "move_in_abroad", "国外転入"
    BIRTH = "birth", "出生"
    EX_OFFICIO_ENTRY = "ex_officio_entry", "職権記載"
    # 消除
    MOVE_OUT = "move_out", "転出"
    MOVE_OUT_ABROAD = "move_out_abroad", "国外転出"
    DEATH = "death", "死亡"
    EX_OFFICIO_REMOVAL = "ex_officio_removal", "職権消除"
    # 修正
    MOVE_WITHIN = "move_within", "転居"
    HOUSEHOLD_HEAD_CHANGE = "household_head_change", "世帯主変更"
    HOUSEHOLD_SEPARATION = "household_separation", "世帯分離"
    HOUSEHOLD_MERGER = "household_merger", "世帯合併"
    EX_OFFICIO_AMENDMENT = "ex_officio_amendment", "職権修正"
    KOSEKI_NOTICE = "koseki_notice", "戸籍届出による修正"
    MOVE_OUT_CONFIRMED = "move_out_confirmed", "転入通知受理"


def reason_label(reason: str) -> str:
    """An 異動事由 as records and notices write it (転入, 転居 …); text that is not one of the codes stays as it is."""
    return ChangeReason(reason).label if reason in ChangeReason.values else reason


CHANGE_CLASS_OF: dict[str, str] = {
    ChangeReason.MOVE_IN: ChangeClass.ENTRY,
    ChangeReason.MOVE_IN_FROM_ABROAD: ChangeClass.ENTRY,
    ChangeReason.BIRTH: ChangeClass.ENTRY,
    ChangeReason.EX_OFFICIO_ENTRY: ChangeClass.ENTRY,
    ChangeReason.MOVE_OUT: ChangeClass.REMOVAL,
    ChangeReason.MOVE_OUT_ABROAD: ChangeClass.REMOVAL,
    ChangeReason.DEATH: ChangeClass.REMOVAL,
    ChangeReason.EX_OFFICIO_REMOVAL: ChangeClass.REMOVAL,
    ChangeReason.MOVE_WITHIN: ChangeClass.AMENDMENT,
    ChangeReason.HOUSEHOLD_HEAD_CHANGE: ChangeClass.AMENDMENT,
    ChangeReason.HOUSEHOLD_SEPARATION: ChangeClass.AMENDMENT,
    ChangeReason.HOUSEHOLD_MERGER: ChangeClass.AMENDMENT,
    ChangeReason.EX_OFFICIO_AMENDMENT: ChangeClass.AMENDMENT,
    ChangeReason.KOSEKI_NOTICE: ChangeClass.AMENDMENT,
    ChangeReason.MOVE_OUT_CONFIRMED: ChangeClass.AMENDMENT,
}
