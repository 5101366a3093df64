"""HTML forms: they parse the browser's input; the actions validate and store it.

`apply_client_error` puts an action's field errors next to the matching form field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest

from accounts import throttle
from accounts.actions import do_reset_password
from accounts.directory import wz_industries
from accounts.models import AddressForm, CompanyMember, User, Visibility
from realtime.errors import ClientError


def apply_client_error(form: forms.Form, error: ClientError) -> None:
    if not error.fields:
        form.add_error(None, error.detail)
        return
    for field, messages in error.fields.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class SignupForm(forms.Form):
    display_name = forms.CharField(label="Name", max_length=120)
    email = forms.EmailField(label="E-Mail-Adresse", max_length=254)
    password = forms.CharField(
        label="Passwort",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Mindestens 8 Zeichen, nicht nur Ziffern, nicht zu ähnlich zu Name oder E-Mail.",
    )


class LoginForm(forms.Form):
    """The login form for Django's `LoginView`, throttled like `/auth/login`."""

    email = forms.EmailField(
        label="E-Mail-Adresse", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label="Passwort", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password:
            ip = throttle.client_ip(self.request) if self.request else "unknown"
            try:
                self.user = throttle.check_password(
                    self.request, email=email, password=password, ip=ip
                )
            except ClientError as error:
                raise forms.ValidationError(error.detail, code=error.code) from error
        return cleaned

    def get_user(self) -> User | None:
        return self.user


class ProfileForm(forms.Form):
    display_name = forms.CharField(label="Name", max_length=120)
    address_form = forms.ChoiceField(
        label="Anrede",
        choices=AddressForm.choices,
        required=False,
        help_text="Freiwillig. Danach richten sich Bezeichnungen wie „Inhaberin“ oder "
        "„Inhaber“; ohne Angabe steht eine neutrale Form.",
    )
    job_title = forms.CharField(label="Position", max_length=120, required=False)
    company_name = forms.CharField(label="Unternehmen", max_length=160, required=False)
    city = forms.CharField(label="Ort", max_length=100, required=False)
    topics = forms.CharField(
        label="Themen",
        max_length=1000,
        required=False,
        help_text="Durch Kommas getrennt, z. B. Ausbildung, Logistik",
    )
    bio = forms.CharField(
        label="Über mich", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    phone = forms.CharField(label="Telefon", max_length=40, required=False)
    email_visibility = forms.ChoiceField(
        label="Wer sieht meine E-Mail-Adresse?", choices=Visibility.choices
    )
    phone_visibility = forms.ChoiceField(
        label="Wer sieht meine Telefonnummer?", choices=Visibility.choices
    )
    show_presence = forms.BooleanField(
        label="Online-Status anzeigen",
        required=False,
        help_text="Wer mit Ihnen in einer Gruppe oder Unterhaltung ist, sieht, ob Sie "
        "gerade online sind und wann Sie zuletzt online waren.",
    )

    @classmethod
    def for_user(cls, user: User) -> ProfileForm:
        return cls(
            initial={
                "display_name": user.display_name,
                "address_form": user.address_form,
                "job_title": user.job_title,
                "company_name": user.company_name,
                "city": user.city,
                "topics": ", ".join(user.topics or []),
                "bio": user.bio,
                "phone": user.phone,
                "email_visibility": user.email_visibility,
                "phone_visibility": user.phone_visibility,
                "show_presence": user.show_presence,
            }
        )


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Bezeichnung",
        max_length=100,
        help_text="Wofür ist der Zugang, z. B. „Warenwirtschaft“?",
    )


class CompanyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=160)
    industry = forms.CharField(label="Branche", max_length=120, required=False)
    city = forms.CharField(label="Ort", max_length=100, required=False)
    address = forms.CharField(label="Anschrift", max_length=255, required=False)
    website = forms.CharField(label="Website", max_length=200, required=False)
    domain = forms.CharField(
        label="Web-Domain",
        max_length=253,
        required=False,
        help_text="z. B. beispiel-gmbh.de; leer: aus der Website. Mit einer E-Mail-Adresse "
        "dieser Domain bestätigen Sie das Profil.",
    )
    register_number = forms.CharField(
        label="Handelsregisternummer", max_length=60, required=False, help_text="z. B. HRB 12345"
    )
    description = forms.CharField(
        label="Beschreibung", max_length=4000, required=False, widget=forms.Textarea
    )


class ClaimForm(forms.Form):
    responsibility = forms.CharField(
        label="Zuständig für",
        max_length=160,
        required=False,
        help_text="z. B. Ausbildung, Einkauf, Logistik",
    )


class MemberForm(forms.Form):
    responsibility = forms.CharField(label="Zuständig für", max_length=160, required=False)
    role = forms.ChoiceField(label="Rolle", choices=CompanyMember.Role.choices, required=False)


class PeopleSearchForm(forms.Form):
    q = forms.CharField(label="Suche", max_length=200, required=False)
    city = forms.CharField(label="Ort", max_length=100, required=False)
    company = forms.CharField(label="Unternehmen", max_length=160, required=False)
    topic = forms.CharField(label="Thema", max_length=40, required=False)
    responsibility = forms.CharField(label="Zuständig für", max_length=160, required=False)


class CompanySearchForm(forms.Form):
    q = forms.CharField(label="Suche", max_length=200, required=False)
    city = forms.CharField(label="Ort", max_length=100, required=False)
    # The WZ 2008 titles of the listed companies; any other text still filters.
    industry = forms.CharField(label="Branche (WZ 2008)", max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["industry"].widget = forms.Select(
            choices=[("", "Alle Branchen"), *wz_industries()]
        )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label="Aktuelles Passwort",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="Neues Passwort",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Mindestens 8 Zeichen, nicht nur Ziffern, nicht zu ähnlich zu Name oder E-Mail.",
    )


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label="Neue E-Mail-Adresse", max_length=254)
    password = forms.CharField(
        label="Aktuelles Passwort",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ResetSetPasswordForm(SetPasswordForm):
    """The last step of a password reset: the new password goes through the action,
    which ends every session and token of the person."""

    def save(self, commit: bool = True) -> Any:
        do_reset_password(user=self.user, new_password=self.cleaned_data["new_password1"])
        return self.user


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Ihr Passwort",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    delete_messages = forms.BooleanField(
        label="Auch meine Nachrichten löschen",
        required=False,
        help_text="Sonst bleiben sie stehen, als Autor erscheint „Ehemaliges Mitglied“.",
    )


class DomainProofForm(forms.Form):
    email = forms.EmailField(
        label="E-Mail-Adresse auf der Firmen-Domain",
        max_length=254,
        help_text="z. B. info@ oder Ihre eigene Adresse im Unternehmen",
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code aus der Authenticator-App",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="Sechs Ziffern, z. B. 123 456",
    )
