from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "board"
    verbose_name = "Gesuche und Angebote"

    def ready(self) -> None:
        from board import privacy

        privacy.connect()
