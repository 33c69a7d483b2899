"""Forms of the 届出 by which persons move between 戸籍: 婚姻 (74条), the 入除籍を伴う届 (縁組, 離縁, 離婚, 復氏, 入籍,
分籍 …), and 転籍 (108条)."""

from typing import Any

from django import forms
from django.conf import settings

from common.forms import KanaField, MunicipalityField

from ..services.filings import KosekiPlace
from .base import ROLE, FilingForm, KosekiRefField, PlaceMixin


class MarriageForm(PlaceMixin, FilingForm):
    persons = (("husband", "夫になる人", ROLE.SUBJECT, True), ("wife", "妻になる人", ROLE.SPOUSE, True))
    place_label = "夫婦の戸籍"
    place_hittousha = False  # the 筆頭者 is the spouse whose 氏 the couple takes

    def add_fields(self) -> None:
        self.fields["surname_from"] = forms.ChoiceField(
            label="婚姻後の夫婦の氏", choices=[("husband", "夫の氏"), ("wife", "妻の氏")], widget=forms.RadioSelect
        )
        self.add_place_fields(initial=self.NEW)
        self.fields["place"].choices = [
            (self.EXISTING, "氏を称する人が筆頭者である区の戸籍"),
            (self.NEW, "新しい本籍（新戸籍）"),
        ]

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [("氏と戸籍", ["surname_from", *self.place_names()])]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if self.errors:
            return d
        self.values = {
            "husband": self.filed_person("husband", ROLE.SUBJECT),
            "wife": self.filed_person("wife", ROLE.SPOUSE),
            "surname_from": d["surname_from"],
            "place": self.place_value(),
        }
        return d


class RelocationForm(PlaceMixin, FilingForm):
    """縁組・離縁・離婚・復氏・入籍・分籍 …: the 事件本人 (up to three), the 戸籍 they enter, the 氏 they take."""

    persons = (
        ("subject1", "事件本人", ROLE.SUBJECT, True),
        ("subject2", "事件本人（2人目）", ROLE.SUBJECT, False),
        ("subject3", "事件本人（3人目）", ROLE.SUBJECT, False),
        ("other", "相手方・届出人（養親など）", ROLE.NOTIFIER, False),
    )
    place_label = "入る戸籍"

    def add_fields(self) -> None:
        self.add_place_fields()
        self.fields["other_role"] = forms.ChoiceField(
            label="相手方の立場",
            required=False,
            choices=[(r.value, r.label) for r in (ROLE.NOTIFIER, ROLE.ADOPTER, ROLE.SPOUSE, ROLE.FATHER, ROLE.MOTHER)],
            initial=ROLE.ADOPTER if self.kind in ("adoption", "special_adoption") else ROLE.NOTIFIER,
        )
        self.fields["new_surname"] = forms.CharField(
            label="新しい氏", max_length=30, required=False, help_text="氏が変わるときだけ（養親の氏・婚姻前の氏など）"
        )
        self.fields["new_surname_kana"] = KanaField(label="新しい氏（カナ）", required=False)

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [("戸籍と氏", [*self.place_names(), "new_surname", "new_surname_kana"])]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if self.errors:
            return d
        subjects = [self.filed_person(p, ROLE.SUBJECT) for p in ("subject1", "subject2", "subject3")]
        other = self.filed_person("other", d.get("other_role") or ROLE.NOTIFIER)
        new_surname = (d.get("new_surname") or "").strip() or None
        if new_surname and not d.get("new_surname_kana"):
            self.add_error("new_surname_kana", "新しい氏のカナを入力してください。")
        self.values = {
            "subjects": [s for s in subjects if s is not None],
            "place": self.place_value(),
            "new_surname": new_surname,
            "new_surname_kana": (d.get("new_surname_kana") or None) if new_surname else None,
            "others": [other] if other else [],
        }
        return d


class HonsekiTransferForm(FilingForm):
    """転籍届: the whole 戸籍 moves to a new 本籍 (in the ward, or to another municipality)."""

    def add_fields(self) -> None:
        self.fields["koseki"] = KosekiRefField(label="転籍する戸籍", initial=self.koseki)
        self.fields["honseki_municipality"] = MunicipalityField(
            label="新しい本籍（市区町村）", initial=settings.WARD_LG_CODE
        )
        self.fields["honseki_address"] = forms.CharField(
            label="新しい本籍（地番）", max_length=200, widget=forms.TextInput(attrs={"size": 40})
        )

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [("転籍", ["koseki", "honseki_municipality", "honseki_address"])]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if self.errors:
            return d
        self.values = {
            "koseki": d["koseki"],
            "new_place": KosekiPlace(
                honseki_municipality=d["honseki_municipality"].code, honseki_address=d["honseki_address"].strip()
            ),
        }
        return d
