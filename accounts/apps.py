from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Konten"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from accounts import sessions

        user_logged_in.connect(sessions.record_login, dispatch_uid="accounts.record_login")
        user_logged_out.connect(sessions.record_logout, dispatch_uid="accounts.record_logout")
