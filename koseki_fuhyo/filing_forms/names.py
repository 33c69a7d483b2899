"""Forms of the 届出 that change names: 氏の変更 (107条), 名の変更 (107条の2), 氏名の振り仮名の届."""

from typing import Any

from django import forms

from common.forms import KanaField

from .base import ROLE, FilingForm, KosekiRefField


class SurnameChangeForm(FilingForm):
    def add_fields(self) -> None:
        self.fields["koseki"] = KosekiRefField(label="氏を変更する戸籍", initial=self.koseki)
        self.fields["new_surname"] = forms.CharField(label="新しい氏", max_length=30)
        self.fields["new_surname_kana"] = KanaField(label="新しい氏（カナ）")

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [("氏の変更", ["koseki", "new_surname", "new_surname_kana"])]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if not self.errors:
            self.values = {
                "koseki": d["koseki"],
                "new_surname": d["new_surname"].strip(),
                "new_surname_kana": d["new_surname_kana"],
            }
        return d


class GivenNameChangeForm(FilingForm):
    persons = (("subject", "事件本人（区の戸籍の人）", ROLE.SUBJECT, True),)

    def add_person_fields(self, prefix: str, legend: str, *, required: bool, typed: bool = True) -> None:
        super().add_person_fields(prefix, legend, required=required, typed=False)

    def add_fields(self) -> None:
        self.fields["new_given_name"] = forms.CharField(label="新しい名", max_length=30)
        self.fields["new_given_name_kana"] = KanaField(label="新しい名（カナ）")

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [("名の変更", ["new_given_name", "new_given_name_kana"])]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if not self.errors:
            self.values = {
                "subject": self.filed_person("subject", ROLE.SUBJECT),
                "new_given_name": d["new_given_name"].strip(),
                "new_given_name_kana": d["new_given_name_kana"],
            }
        return d


class FuriganaForm(FilingForm):
    persons = (("subject", "事件本人（区の戸籍の人）", ROLE.SUBJECT, True),)

    def add_person_fields(self, prefix: str, legend: str, *, required: bool, typed: bool = True) -> None:
        super().add_person_fields(prefix, legend, required=required, typed=False)

    def add_fields(self) -> None:
        self.fields["surname_kana"] = KanaField(label="氏の振り仮名")
        self.fields["given_name_kana"] = KanaField(label="名の振り仮名")

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [("振り仮名", ["surname_kana", "given_name_kana"])]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if not self.errors:
            self.values = {
                "subject": self.filed_person("subject", ROLE.SUBJECT),
                "surname_kana": d["surname_kana"],
                "given_name_kana": d["given_name_kana"],
            }
        return d
