"""Steps of the two-instance end-to-end test (e2e/test_two_instances.py), run inside one instance with its own
settings and database: `manage.py shell -c "from e2e.two_instances_steps import act; act(...)"`.

Each step works through the instance's own services, as a named clerk, and prints one line
`E2E-RESULT <json>` that the test reads. Dummy data only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import close_old_connections
from django.utils import timezone

from common.context import audit_context
from koseki_fuhyo.choices import EntryStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from koseki_fuhyo.services import filings
from koseki_fuhyo.services.filings import FilingHeader, KosekiPlace
from registry import services
from registry.choices import ResidentStatus
from registry.models import Resident
from registry.services.entries import NewHousehold
from transfers import inbox
from transfers.models import IdentifierSymbol, InboundNotice, OutboundNotice

PREFIX = "E2E-RESULT "
CLERK = "e2e-clerk"


def _emit(value: Any) -> None:
    print(PREFIX + json.dumps(value, ensure_ascii=False, default=str), flush=True)  # noqa: T201 - read by the test


def _clerk():
    user, _ = get_user_model().objects.get_or_create(username=CLERK, defaults={"last_name": "試験"})
    return user


def _current_entry(code: str) -> FuhyoEntry | None:
    return FuhyoEntry.objects.filter(juminhyo_code=code, status=EntryStatus.CURRENT).select_related("koseki").first()


# --- Set-up and actions ---------------------------------------------------------------------------------------------


def alter_given_name(code: str, given_name: str) -> None:
    """Make this 本籍地's 附票 row differ from what the 住所地 holds (a different kanji of the 名)."""
    entry = _current_entry(code)
    entry.given_name = given_name
    with audit_context(_clerk().pk, "e2e"):
        entry.save()
    _emit({"entry": entry.pk})


def act(moves: dict[str, str], transfers: dict[str, list[str]]) -> None:
    """As the 住所地: 転居 of each resident (code -> new address in the ward). As the 本籍地: 転籍 of each 戸籍
    (a member's code -> [new 本籍 municipality, new 本籍 address])."""
    today = timezone.localdate()
    clerk = _clerk()
    with audit_context(clerk.pk, "e2e"):
        for code, address in moves.items():
            resident = Resident.objects.get(juminhyo_code=code, status=ResidentStatus.CURRENT)
            services.move_within(
                [resident], change_date=today, notified_on=today, new_address=NewHousehold(address=address)
            )
        for code, (municipality, address) in transfers.items():
            entry = _current_entry(code)
            filings.file_honseki_transfer(
                FilingHeader(filed_on=today),
                entry.koseki,
                KosekiPlace(honseki_municipality=municipality, honseki_address=address),
            )
    _emit({"moved": sorted(moves), "transferred": sorted(transfers)})


def send_check(code: str) -> None:
    """As the 本籍地's clerk: answer the waiting 附票記載事項通知 about `code` with a 本籍照合通知."""
    notice = InboundNotice.objects.get(juminhyo_code=code, kind="fuhyo_items", state=InboundNotice.State.WAITING)
    reply = inbox.send_honseki_check(notice, _clerk(), note="e2e: 戸籍と氏名が一致しません")
    _emit({"reply": reply.pk})


# --- Reading and waiting ------------------------------------------------------------------------------------------


def person_state(code: str) -> dict[str, Any]:
    """What this instance holds about one person: notices in and out, 附票, 住民票, 符号 (ids, kinds, states)."""
    entry = _current_entry(code)
    address = FuhyoAddress.objects.filter(entry=entry, is_current=True).first() if entry else None
    resident = Resident.objects.filter(juminhyo_code=code, status=ResidentStatus.CURRENT).first()
    return {
        "inbound": [
            {
                "kind": n.kind,
                "state": n.state,
                "resolution": n.resolution,
                "sender": n.sender,
                "differences": n.differences,
            }
            for n in InboundNotice.objects.filter(juminhyo_code=code).order_by("pk")
        ],
        "entry": (
            {
                "honseki_address": entry.koseki.honseki_address,
                "given_name": entry.given_name,
                "address_municipality": address.municipality_id if address else None,
                "address": address.address if address else None,
            }
            if entry
            else None
        ),
        "resident_address": resident.address if resident else None,
        "symbol": IdentifierSymbol.objects.filter(juminhyo_code=code).exists(),
    }


def outbound_state() -> list[dict[str, Any]]:
    return [
        {"kind": n.kind, "receiver": n.receiver, "state": n.state, "attempts": n.attempts, "error": n.last_error}
        for n in OutboundNotice.objects.order_by("pk")
    ]


CONDITIONS: dict[str, Callable[[str], bool]] = {
    # the 附票 row was updated from a notice, and J-LIS's 符号 for the person came back
    "applied_with_symbol": lambda code: (
        IdentifierSymbol.objects.filter(juminhyo_code=code).exists()
        and InboundNotice.objects.filter(juminhyo_code=code, kind="fuhyo_items", state="applied").exists()
    ),
    "waiting": lambda code: InboundNotice.objects.filter(juminhyo_code=code, state="waiting").exists(),
    "check_received": lambda code: InboundNotice.objects.filter(juminhyo_code=code, kind="honseki_check").exists(),
    "transferred_in": lambda code: (
        InboundNotice.objects.filter(juminhyo_code=code, kind="honseki_transfer").exists()
        and _current_entry(code) is not None
    ),
}


def wait(conditions: dict[str, str], timeout: float) -> None:
    """Poll until every (code -> condition) holds or `timeout` passes; print each person's state and the outbox."""
    deadline = time.monotonic() + timeout
    met: dict[str, bool] = {}
    while True:
        close_old_connections()
        met = {code: CONDITIONS[name](code) for code, name in conditions.items()}
        if all(met.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    _emit({"met": met, "persons": {code: person_state(code) for code in conditions}, "outbound": outbound_state()})
