from django.apps import AppConfig


class ServerConfig(AppConfig):
    name = "server"
    verbose_name = "netzn"

    def ready(self) -> None:
        from server import privacy

        privacy.connect()
