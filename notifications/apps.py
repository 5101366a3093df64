from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Benachrichtigungen"

    def ready(self) -> None:
        from accounts.signals import company_claim_settled, company_claimed
        from notifications import receivers

        company_claimed.connect(receivers.notify_company_admins, dispatch_uid="company_claim")
        company_claim_settled.connect(
            receivers.settle_company_claim, dispatch_uid="company_claim_settled"
        )
