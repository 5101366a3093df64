"""German page URLs of the accounts app (mounted at the site root)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from accounts import views
from accounts.forms import ResetSetPasswordForm

urlpatterns = [
    path("registrieren/", views.signup, name="signup"),
    path("anmelden/", views.LoginView.as_view(), name="login"),
    path("anmelden/code/", views.login_code, name="login_code"),
    path("abmelden/", views.logout_page, name="logout"),
    path(
        "passwort-vergessen/",
        views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "passwort-vergessen/gesendet/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "passwort-neu/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            form_class=ResetSetPasswordForm,
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "passwort-neu/fertig/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("personen/", views.people_list, name="people_list"),
    path("personen/<int:person_id>/", views.person_detail, name="person_detail"),
    path("personen/<int:person_id>/blockieren/", views.person_block, name="person_block"),
    path("personen/<int:person_id>/foto/", views.person_photo, name="person_photo"),
    path("unternehmen/", views.company_list, name="company_list"),
    path("unternehmen/neu/", views.company_create, name="company_create"),
    path("unternehmen/<slug:slug>/", views.company_detail, name="company_detail"),
    path("unternehmen/<slug:slug>/bearbeiten/", views.company_edit, name="company_edit"),
    path("unternehmen/<slug:slug>/zuordnen/", views.company_claim, name="company_claim"),
    path("unternehmen/<slug:slug>/logo/", views.company_logo, name="company_logo"),
    path(
        "unternehmen/<slug:slug>/logo/aendern/",
        views.company_logo_upload,
        name="company_logo_upload",
    ),
    path("unternehmen/<slug:slug>/bestaetigen/", views.company_verify, name="company_verify"),
    path(
        "unternehmen/<slug:slug>/domain-nachweis/",
        views.company_domain_proof,
        name="company_domain_proof",
    ),
    path("unternehmensnachweis/<str:token>/", views.company_proof_confirm, name="company_proof"),
    path(
        "unternehmen/<slug:slug>/personen/<int:user_id>/",
        views.company_member,
        name="company_member",
    ),
    path(
        "einstellungen/",
        RedirectView.as_view(pattern_name="settings_profile", permanent=False),
        name="settings",
    ),
    path("einstellungen/profil/", views.settings_profile, name="settings_profile"),
    path("einstellungen/profil/foto/", views.settings_photo, name="settings_photo"),
    path("einstellungen/zugaenge/", views.settings_tokens, name="settings_tokens"),
    path(
        "einstellungen/zugaenge/<int:token_id>/widerrufen/",
        views.token_revoke,
        name="token_revoke",
    ),
    path("einstellungen/blockiert/", views.settings_blocked, name="settings_blocked"),
    path("einstellungen/sicherheit/", views.settings_security, name="settings_security"),
    path("einstellungen/sicherheit/passwort/", views.password_change, name="password_change"),
    path("einstellungen/sicherheit/e-mail/", views.email_change, name="email_change"),
    path(
        "einstellungen/sicherheit/zwei-faktor/",
        views.two_factor_setup,
        name="two_factor_setup",
    ),
    path(
        "einstellungen/sicherheit/bestaetigung/",
        views.confirmation_resend,
        name="confirmation_resend",
    ),
    path(
        "einstellungen/sicherheit/sitzungen/<int:session_id>/abmelden/",
        views.session_end,
        name="session_end",
    ),
    path("einstellungen/daten/", views.settings_data, name="settings_data"),
    path("einstellungen/daten/export/", views.data_export, name="data_export"),
    path("einstellungen/konto-loeschen/", views.account_delete, name="account_delete"),
    path("e-mail-bestaetigen/<str:token>/", views.email_confirm, name="email_confirm"),
    path("e-mail-aendern/<str:token>/", views.email_change_confirm, name="email_change_confirm"),
]
