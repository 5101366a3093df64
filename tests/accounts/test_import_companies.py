"""`manage.py import_companies`: the chamber's register as verified company pages,
idempotent by register number, a summary, a German message per bad row, and no row
stored half."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.demo import DEMO_REGISTER
from accounts.models import Company
from tests.accounts.conftest import as_user

pytestmark = pytest.mark.django_db

HEADER = "name;register_number;street;postcode;city;wz_code;wz_title;website\n"
GOOD = (
    "Zeche Ewald Metallbau GmbH;HRB 40101 Bochum;Ewaldstraße 12;44649;Herne;25.11;"
    "Herstellung von Metallkonstruktionen;ewald-metallbau.example\n"
    "Ruhrtal Spedition KG;HRA 20202 Bochum;Hafenweg 3;58455;Witten;49.41;"
    "Güterbeförderung im Straßenverkehr;\n"
)
BAD = (
    "Ohne Nummer GmbH;;Weg 1;44787;Bochum;25.11;Metall;\n"
    "Falsche PLZ GmbH;HRB 1 Bochum;Weg 1;447;Bochum;2x;Metall;\n"
    "Doppelt KG;HRA 20202 Bochum;Weg 2;44787;Bochum;49.41;Spedition;\n"
)


def run(tmp_path: Path, text: str) -> tuple[str, str]:
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_companies", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_register_becomes_verified_pages_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    out, err = run(tmp_path, HEADER + GOOD)
    assert out.strip() == "2 angelegt, 0 aktualisiert, 0 unverändert, 0 abgelehnt"
    assert err == ""
    ewald = Company.objects.get(register_number="HRB 40101 Bochum")
    assert (ewald.verification, ewald.wz_code, ewald.industry) == (
        "register",
        "25.11",
        "Herstellung von Metallkonstruktionen",
    )
    assert ewald.address == "Ewaldstraße 12, 44649 Herne"
    assert ewald.domain == "ewald-metallbau.example"
    out, _ = run(tmp_path, HEADER + GOOD)
    assert out.strip() == "0 angelegt, 0 aktualisiert, 2 unverändert, 0 abgelehnt"
    assert Company.objects.count() == 2
    renamed = GOOD.replace("Ruhrtal Spedition KG", "Ruhrtal Spedition GmbH & Co. KG")
    out, _ = run(tmp_path, HEADER + renamed)
    assert out.strip() == "0 angelegt, 1 aktualisiert, 1 unverändert, 0 abgelehnt"
    assert Company.objects.get(register_number="HRA 20202 Bochum").name.endswith("Co. KG")


def test_bad_rows_are_refused_one_by_one_and_store_nothing(tmp_path: Path) -> None:
    out, err = run(tmp_path, HEADER + GOOD + BAD)
    assert out.strip() == "2 angelegt, 0 aktualisiert, 0 unverändert, 3 abgelehnt"
    lines = err.strip().splitlines()
    assert lines[0] == "Zeile 4 abgelehnt: register_number: fehlt"
    assert lines[1].startswith("Zeile 5 abgelehnt: ")
    assert "keine fünfstellige Postleitzahl" in lines[1]
    assert "kein WZ-2008-Schlüssel" in lines[1]
    assert lines[2] == "Zeile 6 abgelehnt: Registernummer doppelt in der Datei (schon Zeile 3)."
    assert not Company.objects.filter(name__in=["Ohne Nummer GmbH", "Falsche PLZ GmbH"]).exists()
    assert Company.objects.count() == 2


def test_a_file_without_the_columns_is_refused_whole(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Es fehlen die Spalten"):
        run(tmp_path, "Name,Ort\nA,B\n")
    with pytest.raises(CommandError, match="lässt sich nicht lesen"):
        call_command("import_companies", str(tmp_path / "fehlt.csv"))


def test_the_directory_filters_by_wz_title(tmp_path: Path, anna: Any) -> None:
    run(tmp_path, DEMO_REGISTER.read_text(encoding="utf-8"))
    page = Client().get("/unternehmen/").content.decode()
    assert "Elektroinstallation (43.21)" in page
    chosen = Client().get("/unternehmen/", {"industry": "Elektroinstallation"}).content.decode()
    assert "Glückauf Elektrotechnik GmbH" in chosen
    assert "Ruhrtal Spedition KG" not in chosen
    listed = as_user(anna).get("/companies?industry=Elektroinstallation").json()["results"]
    assert [c["name"] for c in listed] == ["Glückauf Elektrotechnik GmbH"]
    assert listed[0]["verified"] is True
