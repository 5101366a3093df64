"""German page URLs of the accounts app (mounted at the site root)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from accounts import views
from accounts.forms import LoginForm

urlpatterns = [
    path("registrieren/", views.signup, name="signup"),
    path(
        "anmelden/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("abmelden/", views.logout_page, name="logout"),
    path(
        "passwort-vergessen/",
        auth_views.PasswordResetView.as_view(
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
]
