"""Personal access tokens: created once, stored as a hash, used as Bearer, revocable."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from accounts.models import AccessToken
from tests.accounts.conftest import JsonClient, anonymous, as_user, error_of, html_client
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def create_token(user: Any, name: str = "Warenwirtschaft") -> dict[str, Any]:
    response = anonymous().post(
        "/auth/tokens", {"email": user.email, "password": PASSWORD, "name": name}
    )
    assert response.status_code == 201
    return dict(response.json())


def bearer(token: str) -> JsonClient:
    return JsonClient(Client(enforce_csrf_checks=True), {"Authorization": f"Bearer {token}"})


def test_token_is_shown_once_and_stored_only_as_hash(anna: Any) -> None:
    body = create_token(anna)
    assert set(body) == {"id", "name", "token"}
    assert body["name"] == "Warenwirtschaft"
    stored = AccessToken.objects.get(pk=body["id"])
    assert stored.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in {stored.token_hash, stored.prefix, stored.name}
    listed = as_user(anna).get("/auth/tokens").json()
    assert listed["next"] is None
    assert [token["id"] for token in listed["results"]] == [body["id"]]
    assert body["token"] not in str(listed)


def test_bearer_token_reads_and_writes_without_csrf(anna: Any) -> None:
    client = bearer(create_token(anna)["token"])
    assert client.get("/me").json()["email"] == anna.email
    response = client.patch("/me", {"city": "Witten-Annen"})
    assert response.status_code == 200
    assert response.json()["city"] == "Witten-Annen"
    assert AccessToken.objects.get(user=anna).last_used_at is not None


def test_revoked_token_no_longer_works(anna: Any) -> None:
    body = create_token(anna)
    client = bearer(body["token"])
    assert client.delete(f"/auth/tokens/{body['id']}").status_code == 204
    response = client.get("/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert as_user(anna).get("/auth/tokens").json()["results"] == []


def test_nobody_revokes_a_token_of_someone_else(anna: Any, bernd: Any) -> None:
    body = create_token(anna)
    foreign = as_user(bernd).delete(f"/auth/tokens/{body['id']}")
    missing = as_user(bernd).delete("/auth/tokens/999999")
    assert foreign.status_code == missing.status_code == 404
    assert error_of(foreign) == error_of(missing)
    assert bearer(body["token"]).get("/me").status_code == 200


@pytest.mark.parametrize(
    "header", ["Bearer nz_unbekannt", "Bearer ", "Bearer " + "nz_" + "x" * 200, "Basic abc"]
)
def test_unknown_tokens_are_401(header: str) -> None:
    response = JsonClient(Client(), {"Authorization": header}).get("/me")
    assert response.status_code == 401


def test_token_creation_bad_input(anna: Any) -> None:
    missing_name = anonymous().post("/auth/tokens", {"email": anna.email, "password": PASSWORD})
    assert missing_name.status_code == 400
    assert "name" in error_of(missing_name)["fields"]
    blank_name = anonymous().post(
        "/auth/tokens", {"email": anna.email, "password": PASSWORD, "name": "  "}
    )
    assert blank_name.status_code == 400
    assert "name" in error_of(blank_name)["fields"]
    wrong = anonymous().post(
        "/auth/tokens", {"email": anna.email, "password": "falsch", "name": "x"}
    )
    assert wrong.status_code == 401
    assert anonymous().delete("/auth/tokens/1").status_code == 401
    assert as_user(anna).delete("/auth/tokens/abc").status_code == 400


def test_tokens_page_shows_a_new_token_once_and_revokes(anna: Any) -> None:
    client = html_client(anna)
    response = client.post("/einstellungen/zugaenge/", {"name": "Lagerscanner"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    token = AccessToken.objects.get(user=anna)
    secret = html.split('<code class="token-secret">')[1].split("</code>")[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.token_hash
    assert "nur dieses eine Mal" in html

    again = client.get("/einstellungen/zugaenge/").content.decode()
    assert "Lagerscanner" in again
    assert secret not in again

    assert client.post(f"/einstellungen/zugaenge/{token.pk}/widerrufen/").status_code == 302
    assert bearer(secret).get("/me").status_code == 401
    assert (
        "Sie haben keine aktiven Zugänge."
        in client.get("/einstellungen/zugaenge/").content.decode()
    )


def test_tokens_page_errors_and_foreign_revocation(anna: Any, bernd: Any) -> None:
    response = html_client(anna).post("/einstellungen/zugaenge/", {"name": ""})
    assert response.status_code == 400
    assert "Dieses Feld ist zwingend erforderlich." in response.content.decode()
    token = AccessToken.objects.create(user=bernd, name="x", token_hash="0" * 64, prefix="nz_x")
    assert (
        html_client(anna).post(f"/einstellungen/zugaenge/{token.pk}/widerrufen/").status_code == 404
    )
    token.refresh_from_db()
    assert token.revoked_at is None
