"""The form → 確認 → 記録 mechanism itself (common.confirm): the preview is the service's own run, rolled back;
it lists every record and item before → after, hides values drawn at recording and persons the clerk may not see;
the flow records once and re-checks what was confirmed."""

import datetime as dt

import pytest
from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from common import idempotency
from common.confirm import ASSIGNED_ON_RECORD, DisplaySpec, EntryFlow, OneStepFlow, run_captured
from common.errors import ServiceError
from common.forms import ServiceErrorsMixin
from registry.models import Household, Resident, UsedSubmissionToken
from registry.tests.factories import HouseholdFactory, ResidentFactory

pytestmark = pytest.mark.django_db

SPECS = (
    DisplaySpec(
        Household, "世帯", ("number", "address", "katagaki"), title=lambda h: f"世帯 {h.number}", assigned=("number",)
    ),
    DisplaySpec(Resident, "住民票", ("surname", "relationship"), title=lambda r: r.name, subject_kind="resident"),
)


def move(household: Household, address: str) -> Household:
    household = Household.objects.get(pk=household.pk)
    household.address = "仮の住所"  # an intermediate save: only the net change is shown
    household.save()
    household.address = address
    household.save()
    return household


def test_the_preview_is_the_run_rolled_back():
    household = HouseholdFactory(address="西新宿一丁目1番")
    result, preview = run_captured(lambda: move(household, "四谷一丁目1番"), SPECS, rollback=True)
    assert result is None
    household.refresh_from_db()
    assert household.address == "西新宿一丁目1番"
    [record] = preview.records
    assert (record.kind, record.action) == ("世帯", "変更")
    assert [(i.label, i.before, i.after) for i in record.items] == [("住所", "西新宿一丁目1番", "四谷一丁目1番")]


def test_recording_keeps_the_change_and_shows_the_same():
    household = HouseholdFactory(address="西新宿一丁目1番")
    _, preview = run_captured(lambda: move(household, "四谷一丁目1番"), SPECS, rollback=True)
    result, done = run_captured(lambda: move(household, "四谷一丁目1番"), SPECS, rollback=False)
    assert result.address == "四谷一丁目1番"
    assert Household.objects.get(pk=household.pk).address == "四谷一丁目1番"
    assert done.fingerprint() == preview.fingerprint()
    _, other = run_captured(lambda: move(household, "戸山一丁目1番"), SPECS, rollback=True)
    assert other.fingerprint() != done.fingerprint()


def test_a_refusal_propagates_and_nothing_stays():
    household = HouseholdFactory(address="西新宿一丁目1番")

    def refuse():
        move(household, "四谷一丁目1番")
        raise ServiceError({"address": ["だめです。"]})

    with pytest.raises(ServiceError):
        run_captured(refuse, SPECS, rollback=True)
    assert Household.objects.get(pk=household.pk).address == "西新宿一丁目1番"


def test_new_rows_show_their_items_and_hide_drawn_numbers():
    def create():
        return Household.objects.create(number="77777777", address="大久保一丁目1番", formed_on=dt.date(2026, 1, 1))

    _, preview = run_captured(create, SPECS, rollback=True)
    [record] = preview.records
    assert record.is_new
    assert record.title == f"世帯 {ASSIGNED_ON_RECORD}"
    assert ("世帯番号", ASSIGNED_ON_RECORD) in [(i.label, i.after) for i in record.items]
    _, typed = run_captured(create, SPECS, given=["77777777"], rollback=True)  # the clerk typed it: shown
    assert typed.records[0].title == "世帯 77777777"
    assert not Household.objects.filter(number="77777777").exists()


def test_persons_the_clerk_may_not_see_are_masked_and_not_named():
    resident = ResidentFactory()

    def amend():
        r = Resident.objects.get(pk=resident.pk)
        r.relationship = "世帯主"
        r.surname = "山口"
        r.save()

    _, seen = run_captured(amend, SPECS, rollback=True)
    assert seen.records[0].title == "山口　太郎"
    assert seen.shown == {"resident": [resident.pk]}
    _, hidden = run_captured(amend, SPECS, may_see=lambda obj: False, rollback=True)
    assert hidden.records[0].masked
    assert hidden.records[0].items == []
    assert "山口" not in hidden.records[0].title
    assert hidden.shown == {}


def test_saves_outside_a_capture_are_not_watched():
    household = HouseholdFactory(address="西新宿一丁目1番")
    move(household, "四谷一丁目1番")  # no capture active: nothing to see, nothing breaks
    assert Household.objects.get(pk=household.pk).address == "四谷一丁目1番"


# --- The flow, on a tiny screen of its own ---------------------------------------------------------------------


class AddressForm(ServiceErrorsMixin, forms.Form):
    address = forms.CharField(label="住所")


class Access:
    def __init__(self) -> None:
        self.shown: list[int] = []

    def show(self, *ids) -> None:
        self.shown.extend(ids)

    def may_see(self, record) -> bool:
        return True


class AddressFlow(EntryFlow):
    purpose = "test:address"
    title = "住所の変更"
    form_template = "registry/changes/form.html"
    token_model = UsedSubmissionToken
    specs = SPECS

    def load(self) -> None:
        self.household = Household.objects.get(pk=self.kwargs["pk"])

    def build_form(self, data=None):
        return AddressForm(data)

    def execute(self, form):
        if form.cleaned_data["address"] == self.household.address:
            raise ServiceError({"address": ["今の住所と同じです。"]})
        return move(self.household, form.cleaned_data["address"])

    def outcome(self, result):
        return f"/households/{result.pk}/", "住所を変更しました。"

    def cancel_url(self) -> str:
        return "/"


class AddressOnce(OneStepFlow):
    """The same change as a one-step screen: the 確認 page repeats the input; a refusal is logged by the service."""

    purpose = "test:address_once"
    form_template = "registry/changes/form.html"
    confirm_template = "registry/changes/confirm.html"
    token_model = UsedSubmissionToken

    def load(self) -> None:
        self.household = Household.objects.get(pk=self.kwargs["pk"])

    def build_form(self, data=None):
        return AddressForm(data)

    def execute(self, form):
        if form.cleaned_data["address"] == "区外":
            Household.objects.filter(pk=self.household.pk).update(katagaki="拒否の記録")  # what a service logs
            raise ServiceError({"address": ["区外の住所です。"]})
        return move(self.household, form.cleaned_data["address"])

    def return_url(self) -> str:
        return f"/households/{self.household.pk}/"

    def done(self, result) -> str:
        return "住所を変更しました。"


def call(clerk, method: str, data=None, pk=None, flow=AddressFlow):
    factory = RequestFactory()
    request = factory.get("/x/") if method == "GET" else factory.post("/x/", data or {})
    request.user = clerk
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    response = flow(request, Access(), pk=pk).handle()
    response.said = [str(m) for m in request._messages]
    return response


def hidden(response, name):
    import re

    return re.search(rf'name="{name}" value="([^"]*)"', response.content.decode()).group(1)


def test_the_flow_from_form_to_record_once(clerk):
    household = HouseholdFactory(address="西新宿一丁目1番")
    form = call(clerk, "GET", pk=household.pk)
    key = hidden(form, "entry_key")
    confirm = call(clerk, "POST", {"address": "四谷一丁目1番", "entry_key": key, "step": "confirm"}, pk=household.pk)
    assert "四谷一丁目1番" in confirm.content.decode()
    assert Household.objects.get(pk=household.pk).address == "西新宿一丁目1番"
    token = hidden(confirm, "token").replace("&quot;", '"')
    done = call(clerk, "POST", {"token": token, "step": "record"}, pk=household.pk)
    assert (done.status_code, done.url) == (302, f"/households/{household.pk}/")
    again = call(clerk, "POST", {"token": token, "step": "record"}, pk=household.pk)
    assert again.status_code == 409
    assert "この入力はすでに記録されています" in again.content.decode()
    assert idempotency.find_used(UsedSubmissionToken, key).result_url == f"/households/{household.pk}/"


def test_a_service_refusal_is_shown_at_the_field(clerk):
    household = HouseholdFactory(address="西新宿一丁目1番")
    key = idempotency.new_entry_key()
    answer = call(clerk, "POST", {"address": "西新宿一丁目1番", "entry_key": key, "step": "confirm"}, pk=household.pk)
    body = answer.content.decode()
    assert "今の住所と同じです。" in body
    assert body.index("今の住所と同じです。") > body.index('id="id_address"')
    assert 'name="token"' not in body


def test_a_one_step_confirmation_records_once(clerk):
    household = HouseholdFactory(address="西新宿一丁目1番")
    confirm = call(clerk, "POST", {"address": "四谷一丁目1番", "step": "confirm"}, pk=household.pk, flow=AddressOnce)
    assert Household.objects.get(pk=household.pk).address == "西新宿一丁目1番"  # the 確認 page runs nothing
    token = hidden(confirm, "token").replace("&quot;", '"')
    commit = {"token": token, "step": "commit", "address": "書き換え"}  # the page's fields are not read
    done = call(clerk, "POST", commit, pk=household.pk, flow=AddressOnce)
    assert (done.status_code, done.url, done.said) == (302, f"/households/{household.pk}/", ["住所を変更しました。"])
    assert Household.objects.get(pk=household.pk).address == "四谷一丁目1番"
    again = call(clerk, "POST", commit, pk=household.pk, flow=AddressOnce)  # double click, reload
    assert (again.status_code, again.url) == (302, f"/households/{household.pk}/")
    assert again.said == ["この操作はすでに処理されています（二重送信）。結果を一覧で確かめてください。"]
    assert UsedSubmissionToken.objects.filter(purpose="test:address_once").count() == 1
    # A token of another screen records nothing here.
    other = call(clerk, "POST", {"token": token, "step": "record"}, pk=household.pk)
    assert "別の職員または別の画面のもの" in other.content.decode()


def test_a_one_step_refusal_keeps_what_the_service_logged_and_shows_the_form(clerk):
    household = HouseholdFactory(address="西新宿一丁目1番")
    confirm = call(clerk, "POST", {"address": "区外", "step": "confirm"}, pk=household.pk, flow=AddressOnce)
    token = hidden(confirm, "token").replace("&quot;", '"')
    refused = call(clerk, "POST", {"token": token, "step": "commit"}, pk=household.pk, flow=AddressOnce)
    body = refused.content.decode()
    assert refused.status_code == 200
    assert body.index("区外の住所です。") > body.index('id="id_address"')
    after = Household.objects.get(pk=household.pk)
    assert (after.address, after.katagaki) == ("西新宿一丁目1番", "拒否の記録")
