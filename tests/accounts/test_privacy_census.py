"""The export covers every table that points at a person (a model census), and the
export of a person holds their data and nobody else's contact fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from accounts.actions import do_block_person, do_create_token
from accounts.privacy import EXCLUDED, covered_models, referencing_fields
from chat.actions import do_get_or_create_direct_conversation, do_send_message
from groups.actions import do_create_group, do_join_group
from tests.accounts.conftest import as_user

DOCS = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


def models_pointing_at_people() -> set[str]:
    return {
        model._meta.label
        for model in apps.get_models()
        if referencing_fields(model) or model._meta.label == "accounts.User"
    }


def test_every_model_with_a_person_is_exported_or_excluded_with_a_reason() -> None:
    covered, excluded = covered_models(), set(EXCLUDED)
    assert models_pointing_at_people() - covered - excluded == set()
    assert covered & excluded == set()
    assert all(reason.strip() for reason in EXCLUDED.values())


def test_the_privacy_document_names_every_such_model() -> None:
    text = DOCS.read_text()
    missing = [label for label in models_pointing_at_people() if f"`{label}`" not in text]
    assert missing == []


@pytest.mark.django_db
def test_the_export_holds_my_data_and_no_one_elses_contact_fields(anna: Any, bernd: Any) -> None:
    bernd_phone = "0234 999 1234"
    api_bernd = as_user(bernd)
    api_bernd.patch("/me", {"phone": bernd_phone, "phone_visibility": "members"})
    group = do_create_group(actor=anna, name="Ausbildung Witten")
    do_join_group(actor=bernd, group=group)
    do_send_message(
        actor=anna, conversation_id=group.conversation_id, body="Wer bildet aus?", client_id="a"
    )
    dm, _ = do_get_or_create_direct_conversation(actor=bernd, other_user_id=anna.pk)
    do_send_message(actor=bernd, conversation_id=dm.pk, body="Wir!", client_id="b")
    do_create_token(actor=anna, name="Warenwirtschaft")
    do_block_person(actor=anna, person=bernd)

    response = as_user(anna).get("/me/export")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="netzn-daten-')
    document = json.loads(response.content)
    assert document["profile"]["email"] == "anna@example.de"
    assert document["profile"]["phone"] == "02302 555 0101"
    assert [m["body"] for m in document["chat"]["messages"]] == ["Wer bildet aus?"]
    assert [g["group"]["name"] for g in document["groups"]["memberships"]] == ["Ausbildung Witten"]
    assert document["groups"]["groups_founded"][0]["name"] == "Ausbildung Witten"
    assert [n["kind"] for n in document["notifications"]] == ["direct_message"]
    token = document["tokens"][0]
    assert token["name"] == "Warenwirtschaft"
    assert "token_hash" not in token
    assert document["blocks"][0]["person"]["display_name"] == "Bernd Schütte"
    text = response.content.decode()
    assert bernd_phone not in text
    assert bernd.email not in text


@pytest.mark.django_db
def test_the_settings_page_offers_the_download(anna: Any) -> None:
    from django.test import Client

    client = Client()
    client.force_login(anna)
    page = client.get("/einstellungen/daten/").content.decode()
    assert "Meine Daten herunterladen" in page
    assert "Konto löschen" in page
    download = client.get("/einstellungen/daten/export/")
    assert json.loads(download.content)["profile"]["display_name"] == "Anna Becker"
