"""Form fields every entry screen shares: dates in 和暦 or 西暦, カナ folded as the registers store it, municipalities
by 地方公共団体コード or name, and the mixin that puts a service's Japanese messages next to the right fields."""

import datetime as dt
import re
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Any

import django.forms
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import ChoiceWidget
from django.utils import timezone

from .checkdigits import lg_code_check_digit
from .models import Municipality
from .validators import clean_kana, validate_lg_code
from .wareki import WarekiError, parse_date, to_wareki_with_seireki

# What WarekiDateInput renders: 「令和6年5月27日（2024-05-27）」; read back by its 西暦 part.
_RENDERED_DATE_RE = re.compile(r"[（(]\s*(\d{4}-\d{1,2}-\d{1,2})\s*[）)]\s*$")
_LG_CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def parse_wareki_input(text: str) -> dt.date:
    """A date as clerks type it (R6.5.27, 令和6年5月27日, 2024-05-27 …) or as the date field renders it."""
    value = unicodedata.normalize("NFKC", text).strip()
    if match := _RENDERED_DATE_RE.search(value):
        return parse_date(match.group(1))
    return parse_date(value)


class WarekiDateInput(forms.TextInput):
    """A text box (clerks type faster than they pick from a calendar) showing a date as 和暦 with 西暦."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {"placeholder": "例：R6.5.27、令和6年5月27日、2024-05-27", "autocomplete": "off", "size": 28}
        super().__init__({**defaults, **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return to_wareki_with_seireki(value)
        return super().format_value(value)


class WarekiDateField(forms.Field):
    """A date typed in 和暦 (`R6.5.27`, `令和6年5月27日`, `H1.1.8`) or 西暦 (`2024-05-27`, `20240527`), shown back as
    和暦 with 西暦 beside it (`令和6年5月27日（2024-05-27）`)."""

    widget = WarekiDateInput
    default_error_messages = {"required": "日付を入力してください。"}

    def __init__(self, *args: Any, future_message: str = "", **kwargs: Any) -> None:
        """`future_message` (「生年月日が未来の日付です」): a date after today is refused at the field, with the date
        as it was read (a 生年月日 or a 届出年月日 never lies ahead; 令和100年 is read as 2118 and caught here)."""
        self.future_message = future_message
        super().__init__(*args, **kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if self.future_message and isinstance(value, dt.date) and value > timezone.localdate():
            raise ValidationError(
                "%(message)s（%(read)sと読みました）。",
                code="future",
                params={"message": self.future_message, "read": to_wareki_with_seireki(value)},
            )

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return parse_wareki_input(str(value))
        except WarekiError as exc:
            raise ValidationError(str(exc), code="invalid") from None

    def bound_data(self, data: Any, initial: Any) -> Any:
        """Typed text that is a date is shown back as 和暦（西暦）, so the clerk sees how it was read."""
        if self.disabled:
            return initial
        try:
            return self.to_python(data) or data
        except ValidationError:
            return data

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != self.to_python(initial)
        except ValidationError:
            return True


class KanaField(forms.CharField):
    """氏名カナ: hiragana and half-width katakana are folded to full-width katakana, as the registers store it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 60)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return clean_kana(value)


class MunicipalityField(forms.CharField):
    """A municipality by its 地方公共団体コード (6 digits with check digit, or the first 5) or by name
    (「渋谷区」, 「東京都渋谷区」, 「大阪市」). Cleans to the Municipality row."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 60)
        kwargs.setdefault("help_text", "地方公共団体コード（6桁）または名称（例：渋谷区、大阪府大阪市）")
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Municipality):
            return str(value)
        if isinstance(value, str) and len(value) == 6 and value.isdigit():
            found = Municipality.objects.filter(code=value).first()
            return str(found) if found else value
        return value

    def clean(self, value: Any):
        text = super().clean(value)
        if text in self.empty_values:
            return None
        text = unicodedata.normalize("NFKC", text).strip()
        if match := _LG_CODE_RE.search(text):
            return self._by_code(match.group(1))
        if len(text) == 5 and text.isdigit():
            return self._by_code(text + str(lg_code_check_digit(text)))
        name = text.replace(" ", "").replace("　", "")
        rows = list(Municipality.objects.filter(name=name))
        for cut in (3, 4):  # 「東京都渋谷区」, 「神奈川県横浜市」: 都道府県名 is 3 or 4 characters
            if rows:
                break
            rows = list(Municipality.objects.filter(prefecture_name=name[:cut], name=name[cut:]))
        active = [m for m in rows if m.is_active] or rows
        if not active:
            raise ValidationError(f"「{text}」という市区町村は見つかりません。地方公共団体コードで入力してください。")
        if len(active) > 1:
            names = "、".join(str(m) for m in active[:5])
            raise ValidationError(
                f"「{text}」は複数あります：{names}。都道府県名から、またはコードで入力してください。"
            )
        return active[0]

    @staticmethod
    def _by_code(code: str):
        validate_lg_code(code)
        found = Municipality.objects.filter(code=code).first()
        if found is None:
            raise ValidationError(f"地方公共団体コード {code} は登録されていません。")
        return found


class EntryFormRenderer(DjangoTemplates):
    """Django's form renderer, also finding the project's templates/ (where the entry screens keep the template that
    puts each error right after its field). Widgets keep Django's own templates."""

    @cached_property
    def engine(self):
        dirs = [Path(django.forms.__file__).resolve().parent / "templates"]
        for config in settings.TEMPLATES:
            dirs.extend(Path(d) for d in config.get("DIRS", []))
        return self.backend({"APP_DIRS": True, "DIRS": dirs, "NAME": "entryforms", "OPTIONS": {}})


ENTRY_FORM_RENDERER = EntryFormRenderer()


def note_length_limit(field: forms.Field) -> None:
    """Adds 「N文字まで」 to the help text of a text field with a max_length (not to numeric code fields, whose help
    says the digits)."""
    limit = getattr(field, "max_length", None)
    widget = field.widget
    if not limit or not isinstance(field, forms.CharField) or type(widget) is not forms.TextInput:
        return
    if isinstance(field, MunicipalityField):  # a code or a name looked up in the table, not free text
        return
    if widget.attrs.get("inputmode") == "numeric" or "文字まで" in str(field.help_text):
        return
    field.help_text = f"{field.help_text}（{limit}文字まで）" if field.help_text else f"{limit}文字まで"


class ServiceErrorsMixin:
    """Puts a ServiceError's messages next to the fields they concern.

    Services name fields as they name their arguments (`change_date`, `persons[0].surname`, `relationships[12]`);
    `service_fields` maps a service name to a form field when they differ. `relationships[<id>]` goes to the field
    `relationship_<id>`. Anything else is shown above the form."""

    service_fields: dict[str, str] = {}
    default_renderer = ENTRY_FORM_RENDERER
    template_name = "registry/changes/_form_div.html"  # each error right after its field
    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # Japanese labels take no colon
        super().__init__(*args, **kwargs)

    def __getitem__(self, name: str):
        """Each text field says its length limit beside it (「30文字まで」): the browser's maxlength cuts longer
        input without a word, and a longer value the server gets is refused at the field."""
        note_length_limit(self.fields[name])  # type: ignore[attr-defined]
        return super().__getitem__(name)  # type: ignore[misc]

    def focus_first(self) -> None:
        """Put the cursor where the clerk has to look: the first field with an error, else the first field to type
        in (a group of checkboxes or radio buttons would carry the attribute on every option)."""
        names = list(self.fields)  # type: ignore[attr-defined]
        errors = getattr(self, "_errors", None) or {}
        typed = [n for n in names if not isinstance(self.fields[n].widget, ChoiceWidget)]  # type: ignore[attr-defined]
        target = next((n for n in names if n in errors), (typed or names or [None])[0])
        if target is not None:
            self.fields[target].widget.attrs["autofocus"] = True  # type: ignore[attr-defined]

    def field_for(self, key: str) -> str | None:
        key = self.service_fields.get(key, key)
        if match := re.fullmatch(r"relationships\[(\d+)\]", key):
            key = f"relationship_{match.group(1)}"
        return key if key in self.fields else None  # type: ignore[attr-defined]

    def add_service_error(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for key, messages in error.message_dict.items():
                self.add_error(self.field_for(key), messages)
        else:
            self.add_error(None, error.messages)

    def add_error(self, field, error) -> None:  # a field already cleaned away by an earlier error is fine
        if field is not None and field not in self.fields:  # type: ignore[attr-defined]
            field = None
        super().add_error(field, error)  # type: ignore[misc]
