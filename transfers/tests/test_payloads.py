"""Notice payloads: every schema is a valid draft 2020-12 schema that closes every object; what the real services
cause validates, carries no internal id and keeps names byte for byte; wrong payloads are refused item by item in
Japanese; a payload that does not validate rolls the service's change back."""

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator

from common.items import KOSEKI_ITEMS, PERSON_ITEMS
from common.juminhyo_codes import juminhyo_code_for
from common.models import ChangeEvent, Municipality
from koseki_fuhyo.choices import FilingKind, FilingPersonRole, FuhyoRecordKind
from koseki_fuhyo.models import FuhyoAddress
from koseki_fuhyo.services import filings
from koseki_fuhyo.services.filings import FiledPerson, FilingHeader, KosekiPlace, Newborn
from koseki_fuhyo.tests.factories import FuhyoEntryFactory, KosekiFactory, link_to_koseki
from registry import services
from registry.choices import ChangeClass, ChangeReason, Sex
from registry.models import ResidentChange
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory
from registry.tests.factories import person_data as person
from transfers import payloads
from transfers.models import OutboundNotice
from transfers.payloads import CURRENT_VERSION, PayloadError, validate
from transfers.routing import NoticeKind, NoticePlan

D = dt.date(2026, 11, 20)
OSAKA, SHIBUYA, YOKOHAMA = "271004", "131130", "141003"
WARD = "131041"
CODE = juminhyo_code_for(1)
IVS_SURNAME = "葛\U000e0100城"  # 葛 with an ideographic variation selector (IVD: Adobe-Japan1)
IVS_GIVEN = "\U00020bb7子"  # 𠮷 (CJK Extension B, supplementary plane)
INTERNAL_IDS = {"resident_id", "household_number", "fuhyo_entry_id", "koseki_id", "status", "filing_person_id"}
ALL_KINDS = [*NoticeKind.values, "ack"]


def notices(kind: str) -> list[OutboundNotice]:
    """The notices of `kind` the outbox wrote, read back from the database."""
    return list(OutboundNotice.objects.filter(kind=kind).order_by("id"))


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def assert_written_and_valid(kind: str) -> list[dict]:
    rows = notices(kind)
    assert rows, f"no {kind} notice was written"
    for row in rows:
        assert row.schema_version == CURRENT_VERSION[kind]
        validate(kind, row.schema_version, row.payload)
        assert not keys_of(row.payload) & INTERNAL_IDS
    return [row.payload for row in rows]


def refused(kind: str, payload: dict) -> list[str]:
    with pytest.raises(PayloadError) as caught:
        validate(kind, CURRENT_VERSION[kind], payload)
    return caught.value.messages


# --- The schemas themselves ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_has_a_valid_schema_for_its_current_version(kind):
    document = payloads.schema(kind, CURRENT_VERSION[kind])
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"].endswith(f"/{kind}.v{CURRENT_VERSION[kind]}.schema.json")
    assert set(CURRENT_VERSION) == set(ALL_KINDS)


def _objects(node, where="#"):
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _objects(value, f"{where}/{i}")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_object_is_closed_and_lists_its_items(kind):
    document = payloads.schema(kind, CURRENT_VERSION[kind])
    checked = 0
    # (the conditions of if/then/else only narrow items that are declared elsewhere)
    for where, node in _objects({k: v for k, v in document.items() if k not in ("if", "then", "else")}):
        if node.get("type") != "object":
            continue
        checked += 1
        assert node.get("additionalProperties") is False, f"{kind}: {where} is open"
        for name, sub in node["properties"].items():
            assert sub.get("title"), f"{kind}: {where}/{name} has no Japanese title"
    assert checked >= 1


def test_the_person_is_one_shape_in_every_schema():
    shapes = {
        kind: payloads.schema(kind, 1)["$defs"]["person"]
        for kind in ALL_KINDS
        if "person" in payloads.schema(kind, 1).get("$defs", {})
    }
    assert set(shapes) == {"move_in_notice", "fuhyo_items", "honseki_transfer"}
    first = next(iter(shapes.values()))
    assert all(shape == first for shape in shapes.values())
    assert list(first["properties"]) == list(PERSON_ITEMS)
    assert first["required"] == list(PERSON_ITEMS)


def test_code_lists_of_the_schemas_follow_the_registers():
    """A new 異動事由, 届出事件 or 立場 in the registers needs a new schema version: this fails until it has one."""
    fuhyo = payloads.schema("fuhyo_items", 1)["$defs"]
    assert fuhyo["reason"]["enum"] == ChangeReason.values
    assert fuhyo["change_class"]["enum"] == ChangeClass.values
    assert fuhyo["sex"]["enum"] == Sex.values
    juminhyo = payloads.schema("juminhyo_items", 1)
    assert juminhyo["$defs"]["filing_kind"]["enum"] == FilingKind.values
    assert juminhyo["$defs"]["role"]["enum"] == FilingPersonRole.values
    # every 住民票 item a 戸籍届出 can change (registry.services.corrections) has its place in the notice
    assert set(KOSEKI_ITEMS) <= set(juminhyo["$defs"]["changes"]["properties"])
    jlis = payloads.schema("jlis_fuhyo", 1)
    assert jlis["properties"]["record_kind"]["enum"] == FuhyoRecordKind.values


def test_versions_are_files_and_unknown_ones_are_refused():
    assert payloads.versions("fuhyo_items") == [1]
    assert refused("fuhyo_items", {})  # sanity: the current version exists and refuses an empty payload
    with pytest.raises(PayloadError) as caught:
        validate("fuhyo_items", 99, {})
    assert caught.value.messages == ["通知の種類「fuhyo_items」の様式 第99版は定義されていません（定義済み: 第1版）。"]
    with pytest.raises(PayloadError) as caught:
        validate("postcard", 1, {})
    assert caught.value.messages == ["通知の種類「postcard」の様式は定義されていません。"]


def _property_names(node) -> set[str]:
    if isinstance(node, dict):
        return set(node.get("properties", {})) | {n for v in node.values() for n in _property_names(v)}
    if isinstance(node, list):
        return {n for v in node for n in _property_names(v)}
    return set()


def test_docs_describe_every_kind_and_item():
    doc = (Path(payloads.SCHEMA_DIR).parent / "notices.md").read_text(encoding="utf-8")
    for kind in ALL_KINDS:
        assert f"### `{kind}`" in doc
        for name in _property_names(payloads.schema(kind, CURRENT_VERSION[kind])):
            assert re.search(rf"[`.]{name}[`.[]", doc), f"docs/notices.md does not name {kind}: {name}"


def test_the_container_image_carries_the_schemas():
    dockerfile = (Path(payloads.SCHEMA_DIR).parents[1] / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY docs/schemas/ docs/schemas/" in dockerfile


# --- What the real services cause ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_move_in_notice_and_fuhyo_items_of_a_move_in(as_clerk):
    services.move_in(
        [person()],
        change_date=D,
        notified_on=D,
        previous_municipality=YOKOHAMA,
        previous_address="中区1番",
        new_household=NewHousehold("四谷一丁目1番", katagaki="四谷ハイツ101"),
    )
    (move_in,) = assert_written_and_valid(NoticeKind.MOVE_IN)
    assert set(move_in) == {"person", "change"}
    assert move_in["person"]["address_municipality"] == WARD
    assert move_in["person"]["address"] == "四谷一丁目1番"
    assert move_in["person"]["katagaki"] == "四谷ハイツ101"
    assert move_in["person"]["birth_date"] == "1990-01-15"
    assert move_in["change"]["reason"] == "move_in"
    assert move_in["change"]["change_date"] == D.isoformat()
    (fuhyo,) = assert_written_and_valid(NoticeKind.FUHYO_ITEMS)
    assert fuhyo["person"] == move_in["person"]
    assert (fuhyo["change"]["change_class"], fuhyo["before"]) == ("entry", None)


@pytest.mark.django_db
def test_fuhyo_items_of_an_amendment_carry_the_items_before(as_clerk):
    resident = ResidentFactory()
    services.ex_officio_amendment(resident, {"given_name_kana": "タロー"}, change_date=D, note="誤記修正")
    (payload,) = assert_written_and_valid(NoticeKind.FUHYO_ITEMS)
    assert (payload["before"]["given_name_kana"], payload["person"]["given_name_kana"]) == ("タロウ", "タロー")
    assert payload["change"]["notified_on"] is None  # 職権: no 届出年月日
    assert payload["person"]["katagaki"] is None  # blank in the register travels as null


@pytest.mark.django_db
def test_fuhyo_items_of_a_move_abroad(as_clerk):
    services.move_out([ResidentFactory()], planned_date=D, notified_on=D, destination_country="アメリカ合衆国")
    (payload,) = assert_written_and_valid(NoticeKind.FUHYO_ITEMS)
    assert (payload["change"]["reason"], payload["change"]["change_class"]) == ("move_out_abroad", "removal")


@pytest.mark.django_db
def test_juminhyo_items_of_a_birth_elsewhere_and_jlis_fuhyo_of_the_entry(as_clerk):
    koseki = KosekiFactory()
    filings.file_birth(
        FilingHeader(filed_on=D),
        Newborn("山田", "蓮", "ヤマダ", "レン", D, "1"),
        KosekiPlace(koseki=koseki),
        address_municipality=YOKOHAMA,
        address="中区1番",
    )
    (payload,) = assert_written_and_valid(NoticeKind.JUMINHYO_ITEMS)
    assert payload["filing"] == {"kind": "birth", "filed_on": D.isoformat(), "accepted_on": D.isoformat()}
    p = payload["person"]
    assert (p["surname"], p["given_name"], p["surname_kana"], p["given_name_kana"]) == ("山田", "蓮", "ヤマダ", "レン")
    assert (p["juminhyo_code"], p["address"], p["removed"]) == (None, "中区1番", False)
    assert p["changes"] == {
        "entered": "birth",
        "honseki_municipality": WARD,
        "honseki_address": koseki.honseki_address,
        "hittousha_name": "山田　太郎",
    }
    (jlis,) = assert_written_and_valid(NoticeKind.JLIS_FUHYO)
    # 記録日: the day the 附票 was written (today), not the 受理日 D (issue 13, gap 5)
    today = dt.date.fromisoformat(jlis["recorded_on"])
    assert (jlis["record_kind"], jlis["reason"], today) == ("entry", "出生", timezone.localdate())
    assert jlis["person"]["juminhyo_code"] is None  # the child has no 住民票コード yet
    assert jlis["person"]["address"] == {
        "municipality": YOKOHAMA,
        "address": "中区1番",
        "is_abroad": False,
        "country": None,
        "established_on": D.isoformat(),
    }


@pytest.mark.django_db
def test_juminhyo_items_of_a_death_elsewhere_say_remove(as_clerk):
    entry = FuhyoEntryFactory(juminhyo_code=CODE)
    FuhyoAddress.objects.create(
        entry=entry,
        municipality=Municipality.objects.get(code=YOKOHAMA),
        address="中区2番",
        established_on=dt.date(2015, 4, 1),
        recorded_on=dt.date(2015, 4, 3),
        reason="転入",
    )
    filings.file_death(
        FilingHeader(filed_on=D),
        FiledPerson(entry=entry, address_municipality=YOKOHAMA, address="中区2番"),
        date_of_death=dt.date(2026, 11, 18),
    )
    (payload,) = assert_written_and_valid(NoticeKind.JUMINHYO_ITEMS)
    assert payload["person"]["juminhyo_code"] == CODE
    assert payload["person"]["removed"] is True
    assert payload["person"]["changes"] == {"removed": "death", "removed_on": "2026-11-18"}
    (jlis,) = assert_written_and_valid(NoticeKind.JLIS_FUHYO)
    assert jlis["record_kind"] == "removal"


@pytest.mark.django_db
def test_juminhyo_items_of_a_marriage_with_a_spouse_living_elsewhere(as_clerk):
    husband = ResidentFactory(surname="佐藤", given_name="健太", surname_kana="サトウ", given_name_kana="ケンタ")
    wife = FiledPerson(
        surname="鈴木",
        given_name="花子",
        surname_kana="スズキ",
        given_name_kana="ハナコ",
        birth_date=dt.date(1992, 3, 3),
        sex="2",
        juminhyo_code=CODE,
        address_municipality=YOKOHAMA,
        address="中区3番",
    )
    filings.file_marriage(
        FilingHeader(filed_on=D),
        FiledPerson(resident=husband),
        wife,
        surname_from="husband",
        place=KosekiPlace(honseki_municipality=WARD, honseki_address="北新宿三丁目3番"),
    )
    (payload,) = assert_written_and_valid(NoticeKind.JUMINHYO_ITEMS)
    p = payload["person"]
    # identified as the 住所地 knows her, with the items it must write
    assert (p["role"], p["surname"], p["surname_kana"], p["sex"]) == ("spouse", "鈴木", "スズキ", "2")
    assert p["changes"] == {
        "surname": "佐藤",
        "surname_kana": "サトウ",
        "honseki_municipality": WARD,
        "honseki_address": "北新宿三丁目3番",
        "hittousha_name": "佐藤　健太",
    }


@pytest.mark.django_db
def test_honseki_transfer_carries_each_person_including_one_abroad(as_clerk):
    resident = ResidentFactory()
    koseki = KosekiFactory(hittousha_surname="山田", hittousha_given_name="太郎")
    link_to_koseki(resident, koseki)
    child = FuhyoEntryFactory(koseki=koseki, given_name="次郎", given_name_kana="ジロウ", juminhyo_code="")
    FuhyoAddress.objects.create(
        entry=child,
        is_abroad=True,
        country="アメリカ合衆国",
        established_on=dt.date(2024, 6, 1),
        recorded_on=dt.date(2024, 6, 3),
        reason="国外転出",
    )
    filings.file_honseki_transfer(
        FilingHeader(filed_on=D), koseki, KosekiPlace(honseki_municipality=OSAKA, honseki_address="北区1番")
    )
    first, second = assert_written_and_valid(NoticeKind.HONSEKI_TRANSFER)
    assert first["filing"]["kind"] == "honseki_transfer"
    assert first["new_honseki"] == {"municipality": OSAKA, "address": "北区1番", "hittousha_name": "山田　太郎"}
    assert first["old_honseki"]["municipality"] == WARD
    assert (first["person"]["address_municipality"], first["abroad"]) == (WARD, None)
    assert second["person"]["given_name"] == "次郎"
    assert (second["person"]["address_municipality"], second["person"]["juminhyo_code"]) == (None, None)
    assert second["abroad"] == {"country": "アメリカ合衆国"}
    assert second["person"]["address_established_on"] == "2024-06-01"
    jlis = assert_written_and_valid(NoticeKind.JLIS_FUHYO)
    abroad = [j for j in jlis if j["person"]["given_name"] == "次郎"][0]["person"]["address"]
    assert (abroad["municipality"], abroad["is_abroad"], abroad["country"]) == (None, True, "アメリカ合衆国")


@pytest.mark.django_db
def test_honseki_check_from_a_notified_person_and_our_fuhyo(as_clerk):
    services.move_within(
        [ResidentFactory(birth_date=dt.date(1980, 5, 2))],
        change_date=D,
        notified_on=D,
        new_address=NewHousehold("戸山1番"),
    )
    (notice,) = notices(NoticeKind.FUHYO_ITEMS)
    notified = notice.payload["person"]
    entry = FuhyoEntryFactory(juminhyo_code=notified["juminhyo_code"], koseki__honseki_address="神南一丁目1番")
    payload = payloads.honseki_check_payload(notice.message_id, notified, payloads.koseki_values_of(entry))
    validate(NoticeKind.HONSEKI_CHECK, 1, payload)
    assert payload["in_reply_to"] == str(notice.message_id)
    assert payload["found"] is True
    assert payload["differences"] == [
        {"item": "birth_date", "notified": "1980-05-02", "koseki": "1980-05-01"},
        {"item": "hittousha_name", "notified": "山田　一夫", "koseki": "山田　太郎"},
    ]
    assert payload["koseki_values"]["birth_date"] == "1980-05-01"
    missing = payloads.honseki_check_payload(notice.message_id, notified, None)
    validate(NoticeKind.HONSEKI_CHECK, 1, missing)
    assert (missing["found"], missing["differences"], missing["koseki_values"]) == (False, [], None)
    # not found, yet differences: contradictory, refused
    assert refused(NoticeKind.HONSEKI_CHECK, {**missing, "differences": payload["differences"]})


def test_ack_bodies():
    message = uuid.uuid4()
    validate("ack", 1, payloads.ack_payload(message, "accepted"))
    validate("ack", 1, payloads.ack_payload(message, "duplicate"))
    jlis = payloads.ack_payload(message, "accepted", {"juminhyo_code": CODE, "symbol": "S" * 64})
    validate("ack", 1, jlis)
    assert jlis["symbol"]["symbol"] == "S" * 64
    assert refused("ack", {"in_reply_to": str(message), "status": "maybe"}) == [
        "「status」（受領の結果）の値「maybe」は使えません（使える値: accepted、duplicate）。"
    ]


# --- Names: as the register holds them, byte for byte -------------------------------------------------------------


@pytest.mark.django_db
def test_names_with_variation_sequences_survive_the_outbox_and_a_json_round_trip(as_clerk):
    resident = ResidentFactory(surname=IVS_SURNAME, given_name=IVS_GIVEN, hittousha_name=f"{IVS_SURNAME}　{IVS_GIVEN}")
    services.move_within([resident], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目1番"))
    (payload,) = assert_written_and_valid(NoticeKind.FUHYO_ITEMS)
    sent = payload["person"]
    assert sent["surname"].encode("utf-8") == IVS_SURNAME.encode("utf-8")
    assert sent["given_name"].encode("utf-8") == IVS_GIVEN.encode("utf-8")
    assert sent["hittousha_name"] == f"{IVS_SURNAME}　{IVS_GIVEN}"
    for ensure_ascii in (True, False):
        wire = json.dumps(payload, ensure_ascii=ensure_ascii).encode("utf-8")
        received = json.loads(wire.decode("utf-8"))
        validate(NoticeKind.FUHYO_ITEMS, 1, received)
        assert received["person"]["surname"].encode("utf-8") == IVS_SURNAME.encode("utf-8")
        assert received["person"]["given_name"].encode("utf-8") == IVS_GIVEN.encode("utf-8")


# --- Wrong payloads, refused item by item in Japanese -------------------------------------------------------------


def good_fuhyo_items() -> dict:
    person = {
        "juminhyo_code": CODE,
        "surname": "山田",
        "given_name": "太郎",
        "surname_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": "1980-05-01",
        "sex": "1",
        "honseki_municipality": SHIBUYA,
        "honseki_address": "神南一丁目1番",
        "hittousha_name": "山田　一夫",
        "address_municipality": WARD,
        "address": "戸山1番",
        "katagaki": None,
        "address_established_on": "2026-11-20",
    }
    change = {
        "reason": "move_within",
        "change_class": "amendment",
        "change_date": "2026-11-20",
        "notified_on": "2026-11-20",
        "previous_address": "東京都新宿区西新宿二丁目1番",
        "new_address": "東京都新宿区戸山1番",
    }
    return {"person": person, "change": change, "before": None}


def test_a_well_formed_payload_passes():
    validate(NoticeKind.FUHYO_ITEMS, 1, good_fuhyo_items())


def test_a_missing_item_is_named():
    payload = good_fuhyo_items()
    del payload["person"]["birth_date"]
    assert refused(NoticeKind.FUHYO_ITEMS, payload) == [
        "「person.birth_date」（生年月日）がありません（必須の項目です）。"
    ]


def test_an_extra_item_is_named():
    payload = good_fuhyo_items()
    payload["person"]["resident_id"] = 42
    assert refused(NoticeKind.FUHYO_ITEMS, payload) == [
        "「person.resident_id」は様式にない項目です（「person」（異動後の項目）には書けません）。"
    ]
    payload = good_fuhyo_items()
    payload["received_at"] = WARD
    assert refused(NoticeKind.FUHYO_ITEMS, payload) == [
        "「received_at」は様式にない項目です（通知の内容には書けません）。"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2026/11/20",
            "「change.change_date」（異動年月日）の値「2026/11/20」は形式が違います"
            "（年月日は YYYY-MM-DD の形で書きます）。",
        ),
        ("2026-02-30", "「change.change_date」（異動年月日）の値「2026-02-30」は存在しない日付です。"),
        (None, "「change.change_date」（異動年月日）の型が違います（文字列であるべきところです）。"),
    ],
)
def test_a_bad_date_is_refused(value, message):
    payload = good_fuhyo_items()
    payload["change"]["change_date"] = value
    assert refused(NoticeKind.FUHYO_ITEMS, payload) == [message]


def test_bad_codes_are_refused():
    payload = good_fuhyo_items()
    payload["person"]["honseki_municipality"] = "13113"
    payload["person"]["juminhyo_code"] = "1234567890X"
    assert refused(NoticeKind.FUHYO_ITEMS, payload) == [
        "「person.honseki_municipality」（本籍（市区町村））の値「13113」は形式が違います（地方公共団体コードは6桁の数字です）。",
        "「person.juminhyo_code」（住民票コード）の値「1234567890X」は形式が違います（住民票コードは11桁の数字です）。",
    ]


def test_a_wrong_check_digit_is_refused_in_japanese():
    payload = good_fuhyo_items()
    payload["person"]["juminhyo_code"] = "12345678904"  # deliberately wrong: the check digit of 1234567890 is 3
    payload["person"]["honseki_municipality"] = "131131"  # deliberately wrong: 渋谷区 is 131130
    assert refused(NoticeKind.FUHYO_ITEMS, payload) == [
        "「person.honseki_municipality」（本籍（市区町村））：地方公共団体コードの検査数字が正しくありません"
        "（末尾は 0 のはずです）。",
        "「person.juminhyo_code」（住民票コード）：住民票コードの検査数字が正しくありません（末尾は 3 のはずです）。",
    ]


@pytest.mark.parametrize(  # the codes deliberately wrong: the check digit of 1234567890 is 3
    ("kind", "payload", "where"),
    [
        ("honseki_check", {"juminhyo_code": "12345678904"}, "「juminhyo_code」（住民票コード）"),
        (
            "ack",
            {"in_reply_to": "5f0c7e7e-8a43-4d5c-9b1a-2f7a1e0c9d11", "status": "accepted", "symbol": {"symbol": "S"}},
            "「symbol.juminhyo_code」（住民票コード）",
        ),
    ],
)
def test_every_kind_checks_the_check_digit_of_its_codes(kind, payload, where):
    if kind == "ack":
        payload["symbol"]["juminhyo_code"] = "12345678904"  # deliberately wrong
    messages = refused(kind, payload)
    assert f"{where}：住民票コードの検査数字が正しくありません（末尾は 3 のはずです）。" in messages


def _code_items(kind: str) -> dict[str, dict]:
    """Every item of the schema holding a code (by its name or its pattern), resolved: path → node."""
    root = payloads.schema(kind, CURRENT_VERSION[kind])
    found = {}

    def walk(node, path, depth=0):
        node = payloads._resolve(node, root)
        for branch in node.get("anyOf", []) + node.get("oneOf", []):
            walk(branch, path, depth + 1)
        for name, sub in node.get("properties", {}).items():
            resolved = payloads._resolve(sub, root)
            holds_code = name.endswith(("juminhyo_code", "municipality")) or resolved.get("pattern") in (
                "^[0-9]{6}$",
                "^[0-9]{11}$",
            )
            if holds_code:
                found[f"{path}.{name}".lstrip(".")] = resolved
            walk(sub, f"{path}.{name}", depth + 1)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]", depth + 1)

    walk(root, "")
    return found


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_code_in_every_schema_is_checked_by_its_check_digit(kind):
    items = _code_items(kind)
    for path, node in items.items():
        expected = "juminhyo-code" if path.endswith("juminhyo_code") else "lg-code"
        assert node.get("format") == expected, f"{kind}: {path} is not checked by its check digit"
    if kind != "ack":
        assert any(path.endswith("juminhyo_code") for path in items), kind


def test_the_code_formats_pass_null_and_leave_other_types_to_type():
    checker = payloads.FORMAT_CHECKER
    # the bad ones deliberately invalid: the check digit of 1234567890 is 3, of 13104 (新宿区) is 1
    for fmt, good, bad in (("juminhyo-code", "12345678903", "12345678904"), ("lg-code", "131041", "131040")):
        assert checker.conforms(good, fmt)
        assert not checker.conforms(bad, fmt)
        assert checker.conforms(None, fmt)
        assert checker.conforms(12345678903, fmt)


def test_a_bad_before_is_reported_item_by_item_not_as_not_null():
    payload = good_fuhyo_items()
    payload["before"] = {**payload["person"], "sex": "9"}
    assert refused(NoticeKind.FUHYO_ITEMS, payload) == [
        "「before.sex」（性別）の値「9」は使えません（使える値: 1、2）。"
    ]


def test_an_empty_string_is_not_a_missing_item():
    payload = good_fuhyo_items()
    payload["person"]["katagaki"] = ""
    assert refused(NoticeKind.FUHYO_ITEMS, payload) == [
        "「person.katagaki」（方書）が空です（項目がないときは null にします）。"
    ]


def test_removal_needs_its_date():
    payload = {
        "filing": {"kind": "death", "filed_on": "2026-11-20", "accepted_on": "2026-11-20"},
        "person": {
            "role": "subject",
            "juminhyo_code": None,
            "surname": "山田",
            "given_name": "太郎",
            "surname_kana": None,
            "given_name_kana": None,
            "birth_date": None,
            "sex": None,
            "address": None,
            "changes": {"removed": "death"},
            "removed": True,
        },
    }
    assert refused(NoticeKind.JUMINHYO_ITEMS, payload) == [
        "「person.changes.removed」（消除の原因となった届出事件）があるときは"
        "「person.changes.removed_on」（消除の原因の日（死亡・失踪・国籍喪失の日））も必要です。"
    ]


# --- A payload that fails rolls the change back --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invalid_payload_rolls_the_whole_change_back(as_clerk, monkeypatch):
    resident = ResidentFactory()
    address_before = resident.address

    def broken_route(event):
        return [NoticePlan(NoticeKind.FUHYO_ITEMS, SHIBUYA, {"person": {"resident_id": resident.pk}})]

    monkeypatch.setattr("transfers.outbox.route", broken_route)
    with pytest.raises(PayloadError):
        services.move_within([resident], change_date=D, notified_on=D, new_address=NewHousehold("高田馬場一丁目1番"))
    resident.refresh_from_db()
    assert resident.address == address_before
    assert not ResidentChange.objects.exists()
    assert not ChangeEvent.objects.exists()
    assert not OutboundNotice.objects.exists()
