"""The 記載事項 that the registers share and the notices carry, by their field names: the one source of every list of
them. registry, koseki_fuhyo and transfers (payloads, routing, handlers) import these; none writes a list of its own.
Pure Python (no Django): the notice simulators load it too."""

import datetime as dt
from typing import Any

# 氏名 and its カナ (振り仮名).
NAME_ITEMS = ("surname", "given_name", "surname_kana", "given_name_kana")
# Who a person is, on the 住民票 and the 附票 alike: 氏名, カナ, 生年月日, 男女の別.
IDENTITY_ITEMS = (*NAME_ITEMS, "birth_date", "sex")
# 本籍 and 筆頭者 as the 住民票 writes them.
HONSEKI_ITEMS = ("honseki_municipality", "honseki_address", "hittousha_name")
# Items a 戸籍届出 changes on the 住民票 (氏名, 振り仮名, 本籍, 筆頭者).
KOSEKI_ITEMS = (*NAME_ITEMS, *HONSEKI_ITEMS)
# What a 住民票記載事項通知 (住基法9条2項) carries as changes: those items, and whether the person entered or left.
JUMINHYO_CHANGE_ITEMS = (*KOSEKI_ITEMS, "entered", "removed")
# The items a 本籍地 compares with its 戸籍 and 附票 (住基法19条2項), in the order of the 本籍照合通知.
KOSEKI_CHECK_ITEMS = (*IDENTITY_ITEMS, "honseki_address", "hittousha_name")
# 附票 items a 住民票 change can alter (住基法17条): a change to any of these is notified to the 本籍地.
# 住所を定めた年月日 is a 附票 item (17条4号), so its correction goes to the 本籍地 too.
FUHYO_ITEMS = (*IDENTITY_ITEMS, "juminhyo_code", "address", "katagaki", "address_established_on", *HONSEKI_ITEMS)
# The flat person of every notice, in the order of its schema (docs/schemas).
PERSON_ITEMS = (
    "juminhyo_code",
    *IDENTITY_ITEMS,
    *HONSEKI_ITEMS,
    "address_municipality",
    "address",
    "katagaki",
    "address_established_on",
)


def iso_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def identity_items(person: Any) -> dict[str, Any]:
    """The IDENTITY_ITEMS of a 住民票 or 附票 row as an event or a notice carries them (the date as ISO text)."""
    items = {item: getattr(person, item) for item in IDENTITY_ITEMS}
    items["birth_date"] = iso_date(items["birth_date"])
    return items
