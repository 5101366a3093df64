from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Unterhaltungen"

    def ready(self) -> None:
        # The receiver that removes an attachment's files with its row.
        from chat import attachments  # noqa: F401
