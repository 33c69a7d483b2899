"""Forms of the account screens (labels and errors in Japanese)."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.contrib.auth.validators import UnicodeUsernameValidator

from common.roles import ROLES


def role_choices() -> list[tuple[str, str]]:
    return [(role.key, f"{role.group_name}（{role.description[:30]}…）") for role in ROLES]


class TokenForm(forms.Form):
    token = forms.CharField(
        label="確認コード",
        max_length=20,
        help_text="認証アプリに表示されている6桁の数字（または予備コード）",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(
        label="職員ID", max_length=150, validators=[UnicodeUsernameValidator()], help_text="英数字と @ . + - _"
    )
    last_name = forms.CharField(label="姓", max_length=150)
    first_name = forms.CharField(label="名", max_length=150, required=False)
    role = forms.ChoiceField(label="役割", choices=role_choices, widget=forms.RadioSelect)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("その職員IDはすでに使われています。")
        return username


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="役割", choices=role_choices, widget=forms.RadioSelect)


class LockForm(forms.Form):
    username = forms.CharField(label="職員ID", max_length=150)


class PasswordResetCompleteForm(forms.Form):
    """パスワードの再設定（承認済み）: the holder's 職員ID, a code of their own authenticator, the new password."""

    username = forms.CharField(label="職員ID", max_length=150, widget=forms.TextInput(attrs={"autofocus": True}))
    token = forms.CharField(
        label="確認コード",
        max_length=20,
        help_text="自分の認証アプリに表示されている6桁の数字（または自分の予備コード）",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    new_password1 = forms.CharField(
        label="新しいパスワード",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html,
    )
    new_password2 = forms.CharField(
        label="新しいパスワード（確認）",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "確認のパスワードが一致しません。")
        return data
