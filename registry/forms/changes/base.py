"""What every 異動 form shares: dates and 備考, the members of a 世帯 (who moves, who becomes 世帯主, new 続柄),
finding a 世帯 by its number, and a person as written on the 届書."""

import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from common.forms import ENTRY_FORM_RENDERER, KanaField, MunicipalityField, ServiceErrorsMixin, WarekiDateField
from common.wareki import to_wareki_with_seireki

from ...choices import Sex
from ...models import Household, Resident
from ...relationships import HEAD
from ...services import PersonData


def person_label(resident: Resident) -> str:
    return f"{resident.name}（{resident.relationship}・{to_wareki_with_seireki(resident.birth_date)}生）"


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resident) -> str:
        return person_label(obj)


MAX_ID = 2**63 - 1  # the largest primary key; a larger number cannot name a row (and SQLite refuses to bind it)


class MembersChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def _check_values(self, value):
        """Refuse what cannot be an id before asking the database (`id IN (10**30)` fails on SQLite)."""
        for pk in value:
            text = str(pk)
            if not (text.isascii() and text.isdigit() and int(text) <= MAX_ID):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)

    def label_from_instance(self, obj: Resident) -> str:
        return person_label(obj)


class HouseholdNumberField(forms.CharField):
    """A 世帯 of the ward by its 世帯番号 (must exist and not be dissolved)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")
        self.widget.attrs.setdefault("inputmode", "numeric")

    def prepare_value(self, value: Any) -> Any:
        return value.number if isinstance(value, Household) else value

    def clean(self, value: Any) -> Household | None:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        number = unicodedata.normalize("NFKC", text).strip()
        household = Household.objects.filter(number=number).first()
        if household is None:
            raise ValidationError(f"世帯番号 {number} の世帯はありません。")
        if not household.is_active:
            raise ValidationError(f"世帯番号 {number} の世帯はすでに消滅しています。")
        return household


class ChangeForm(ServiceErrorsMixin, forms.Form):
    """異動年月日・届出年月日・備考, and the fields a 世帯's members need (added by `add_member_fields`)."""

    change_date_label = "異動年月日"
    change_date_may_be_future = False  # 転出: a planned date (the service bounds it by the 届出年月日)
    with_notified_on = True
    note_required = False

    def __init__(self, *args: Any, members: list[Resident] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members or []
        today = timezone.localdate()
        self.fields["change_date"] = WarekiDateField(
            label=self.change_date_label,
            initial=today,
            future_message="" if self.change_date_may_be_future else f"{self.change_date_label}が未来の日付です",
        )
        if self.with_notified_on:
            self.fields["notified_on"] = WarekiDateField(
                label="届出年月日", initial=today, future_message="届出年月日が未来の日付です"
            )
        self.fields["note"] = forms.CharField(
            label="備考（理由）" if self.note_required else "備考",
            max_length=200,
            required=self.note_required,
            widget=forms.TextInput(attrs={"size": 60}),
        )
        self.add_fields()
        self.order_fields(self.field_order_for())

    def add_fields(self) -> None:
        """Screen-specific fields."""

    def field_order_for(self) -> list[str]:
        return [name for name in self.fields if name not in ("change_date", "notified_on", "note")] + [
            "change_date",
            "notified_on",
            "note",
        ]

    # --- members of a 世帯 ---------------------------------------------------------------------------------------

    def member_queryset(self, members: list[Resident] | None = None):
        ids = [m.pk for m in (members if members is not None else self.members)]
        return Resident.objects.filter(pk__in=ids).order_by("id")

    def add_members_choice(self, name: str = "residents", label: str = "対象者", initial: list[int] | None = None):
        self.fields[name] = MembersChoiceField(
            label=label,
            queryset=self.member_queryset(),
            initial=initial if initial is not None else [m.pk for m in self.members],
            error_messages={"required": "一人以上選んでください。"},
        )

    def add_member_select(self, name: str, label: str, *, required: bool = False, members=None, help_text: str = ""):
        self.fields[name] = MemberChoiceField(
            label=label,
            queryset=self.member_queryset(members),
            required=required,
            empty_label="（選ばない）" if not required else "（選んでください）",
            help_text=help_text,
        )

    def add_relationship_fields(self, members=None, label: str = "新しい続柄", help_text: str = "") -> None:
        for member in members if members is not None else self.members:
            self.fields[f"relationship_{member.pk}"] = forms.CharField(
                label=f"{member.name} の{label}",
                required=False,
                max_length=40,
                help_text=f"現在：{member.relationship}。{help_text}".rstrip("。") + "",
                widget=forms.TextInput(attrs={"size": 16, "autocomplete": "off"}),
            )

    def relationships(self) -> dict[int, str]:
        out = {}
        for name, value in self.cleaned_data.items():
            if name.startswith("relationship_") and value and value.strip():
                out[int(name.removeprefix("relationship_"))] = value.strip()
        return out


def person_data_of(d: dict[str, Any], *, birth_date) -> PersonData:
    """The person a form's cleaned data describes (a 転入 or 職権記載 member, a 出生's child)."""
    honseki = d.get("honseki_municipality")
    return PersonData(
        surname=d["surname"],
        given_name=d["given_name"],
        surname_kana=d["surname_kana"],
        given_name_kana=d["given_name_kana"],
        birth_date=birth_date,
        sex=d["sex"],
        relationship=d["relationship"],
        honseki_municipality=honseki.code if honseki else None,
        honseki_address=d.get("honseki_address", ""),
        hittousha_name=d.get("hittousha_name", ""),
        juminhyo_code=d.get("juminhyo_code", ""),
    )


class PersonForm(ServiceErrorsMixin, forms.Form):
    """A person entering the register (転入・出生・職権記載), as written on the 届書."""

    surname = forms.CharField(label="氏", max_length=30)
    given_name = forms.CharField(label="名", max_length=30)
    surname_kana = KanaField(label="氏（カナ）", help_text="ひらがな・半角カナでも入力できます")
    given_name_kana = KanaField(label="名（カナ）")
    birth_date = WarekiDateField(label="生年月日", future_message="生年月日が未来の日付です")
    sex = forms.ChoiceField(label="性別", choices=Sex.choices, widget=forms.RadioSelect)
    relationship = forms.CharField(label="続柄", max_length=40, help_text="世帯主・妻・子・子の子 など")
    honseki_municipality = MunicipalityField(label="本籍（市区町村）", required=False, help_text="空欄は本籍不明")
    honseki_address = forms.CharField(label="本籍（地番）", max_length=200, required=False)
    hittousha_name = forms.CharField(label="筆頭者の氏名", max_length=61, required=False)
    juminhyo_code = forms.CharField(
        label="住民票コード",
        max_length=11,
        required=False,
        help_text="転出証明書などにあれば。空欄なら新しく付番します",
    )

    def field_for(self, key: str) -> str | None:
        if key.startswith("persons[") and "]." in key:
            key = key.split("].", 1)[1]
        return super().field_for(key)

    def person_data(self) -> PersonData:
        return person_data_of(self.cleaned_data, birth_date=self.cleaned_data["birth_date"])


class BasePersonFormSet(forms.BaseFormSet):
    default_error_messages = {
        "missing_management_form": "入力欄の数が正しくありません。画面を開き直して、もう一度入力してください。",
        "too_many_forms": "一度に入力できるのは %(num)d 人までです。",
        "too_few_forms": "少なくとも %(num)d 人を入力してください。",
    }

    def total_form_count(self) -> int:
        """A bound formset whose counts were tampered with (not numbers: once an IndexError, a 500) offers the
        usual rows again, filled with what was sent, instead of none; it is not valid (the error above)."""
        if self.is_bound and not self.management_form.is_valid():
            return self.min_num + self.extra
        return super().total_form_count()

    def filled_forms(self) -> list[PersonForm]:
        return [f for f in self.forms if f.has_changed() and f not in self.deleted_forms]


PERSON_ROWS = 4  # rows shown on a 転入 form (a family of four at the counter); rows left empty are ignored
PersonFormSet = forms.formset_factory(
    PersonForm,
    formset=BasePersonFormSet,
    extra=PERSON_ROWS - 1,
    min_num=1,
    max_num=10,
    absolute_max=10,  # a forged p-TOTAL_FORMS builds at most 10 rows (Django's default would build 1,010)
    validate_min=True,
    validate_max=True,
    renderer=ENTRY_FORM_RENDERER,
)


def head_of(members: list[Resident]) -> Resident | None:
    return next((m for m in members if m.relationship == HEAD), None)
