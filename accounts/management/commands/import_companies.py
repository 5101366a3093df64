"""`python manage.py import_companies FILE.csv`: the chamber's member register as
company pages (format: docs/accounts.md, "The chamber's register")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.registry import import_register
from realtime.errors import ClientError


class Command(BaseCommand):
    help = "Legt Unternehmensprofile aus dem Mitgliederverzeichnis (CSV) an oder aktualisiert sie."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV-Datei (UTF-8) mit Kopfzeile")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Die Datei {path} lässt sich nicht lesen: {exc}") from exc
        try:
            result = import_register(text)
        except ClientError as error:
            raise CommandError(error.detail) from error
        for line, reason in result.refused:
            self.stderr.write(f"Zeile {line} abgelehnt: {reason}")
        self.stdout.write(result.summary())
