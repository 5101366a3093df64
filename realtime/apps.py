from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Echtzeit"

    def ready(self) -> None:
        from realtime import signals

        signals.connect()
