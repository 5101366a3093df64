from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Engagement"

    def ready(self) -> None:
        from django.conf import settings

        # Only the server process of `make run` sets it (engagement/background.py).
        if settings.NETZN_CRON_EVERY_SECONDS > 0:
            from engagement.background import start

            start(settings.NETZN_CRON_EVERY_SECONDS)
