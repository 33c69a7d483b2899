"""Each writer of a row that keeps a 住民票コード or a partner's 地方公共団体コード refuses one that fails its
check digit: the partner table, the outbox (a change's notices, a clerk's 本籍照合通知) and the inbox (a received
notice)."""

import datetime as dt
import json
import uuid

import pytest

from common.errors import ServiceError
from common.juminhyo_codes import juminhyo_code_for
from common.models import ChangeEvent
from registry import services
from registry.models import ResidentChange
from registry.services.entries import NewHousehold
from registry.tests.factories import ResidentFactory
from transfers import inbox
from transfers.envelope import Identity
from transfers.keys import public_key_document
from transfers.models import InboundNotice, OutboundNotice, Partner
from transfers.partners import register_partner
from transfers.routing import JLIS, NoticeKind, NoticePlan

from .inbound_support import (
    entries_after,
    fuhyo_items,
    last_entry_id,
    person,
    post,
    sealed,
    shibuya_fixture,  # noqa: F401 - the `shibuya` fixture
    ward_fixture,  # noqa: F401 - the `ward` fixture
)

pytestmark = pytest.mark.django_db

# Deliberately invalid: the check digit of 1234567890 is 3; 渋谷区 (13113) is 131130.
WRONG_CODE, WRONG_LG_CODE = "12345678904", "131131"


def _document(code: str) -> str:
    return json.dumps(public_key_document(Identity.generate(code), "相手"), ensure_ascii=False)


# --- The partner table -------------------------------------------------------------------------------------------


def test_a_partner_code_with_a_wrong_check_digit_is_refused():
    with pytest.raises(ServiceError) as refused:
        register_partner(_document(WRONG_LG_CODE), transport="spool", spool_dir="/tmp/cs")  # noqa: S108
    (message,) = refused.value.message_dict["file"]
    assert message.startswith("公開鍵ファイルの団体コード: 地方公共団体コードの検査数字が正しくありません")
    assert not Partner.objects.exists()


@pytest.mark.parametrize("code", ["131130", JLIS])
def test_a_valid_partner_code_is_registered(code):
    partner, created = register_partner(_document(code), transport="spool", spool_dir="/tmp/cs")  # noqa: S108
    assert (partner.code, created) == (code, True)


# --- The outbox ----------------------------------------------------------------------------------------------------


def test_a_notice_to_a_receiver_with_a_wrong_check_digit_rolls_the_change_back(as_clerk, monkeypatch):
    resident = ResidentFactory()
    address_before = resident.address

    def route(event):  # a well-formed payload, to a receiver whose code fails its check digit
        return [
            NoticePlan(NoticeKind.FUHYO_ITEMS, WRONG_LG_CODE, fuhyo_items(person(juminhyo_code=juminhyo_code_for(1))))
        ]

    monkeypatch.setattr("transfers.outbox.route", route)
    with pytest.raises(ServiceError) as refused:
        services.move_within(
            [resident],
            change_date=dt.date(2026, 11, 20),
            notified_on=dt.date(2026, 11, 20),
            new_address=NewHousehold("高田馬場一丁目1番"),
        )
    assert "地方公共団体コードの検査数字が正しくありません" in refused.value.message_dict["receiver"][0]
    resident.refresh_from_db()
    assert resident.address == address_before
    assert not ResidentChange.objects.exists()
    assert not ChangeEvent.objects.exists()
    assert not OutboundNotice.objects.exists()


def test_a_honseki_check_is_not_sent_for_a_code_that_fails_its_check_digit(clerk):
    """A notice stored before codes were checked: the clerk is told, nothing is written."""
    notice = InboundNotice.objects.create(
        message_id=uuid.uuid4(),
        sender="131130",
        kind=NoticeKind.FUHYO_ITEMS,
        schema_version=1,
        payload=fuhyo_items(person(juminhyo_code=WRONG_CODE)),
        payload_digest="0" * 64,
        sent_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        via="http",
        juminhyo_code=WRONG_CODE,
    )
    with pytest.raises(ServiceError) as refused:
        inbox.send_honseki_check(notice, clerk)
    assert "住民票コードの検査数字が正しくありません" in refused.value.message_dict["juminhyo_code"][0]
    assert not OutboundNotice.objects.exists()
    notice.refresh_from_db()
    assert notice.state == InboundNotice.State.WAITING


# --- The inbox -----------------------------------------------------------------------------------------------------


def test_the_inbox_row_checks_its_codes_even_if_a_schema_would_not(client, ward, shibuya, monkeypatch):
    """Every schema checks the check digits; were one not to, the inbox row's own validators still refuse."""
    monkeypatch.setattr("transfers.inbound.validate", lambda kind, version, payload: None)
    mark = last_entry_id()
    response = post(client, sealed(shibuya, ward, "fuhyo_items", fuhyo_items(person(juminhyo_code=WRONG_CODE))))
    assert (response.status_code, response.json()["error"]) == (400, "bad_payload")
    assert "住民票コードの検査数字が正しくありません" in response.json()["message"]
    assert entries_after(mark) == [("rejected", "denied", "bad_payload")]
    assert not InboundNotice.objects.exists()
