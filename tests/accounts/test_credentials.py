"""Password change and reset, e-mail confirmation and change, the session list: what
a person sees, the mails they get, and the sessions, tokens and sockets that end."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.test import Client

from accounts.models import AccessToken, User, UserSession
from asgi import application
from tests.accounts.conftest import JsonClient, anonymous, as_user, error_of
from tests.chat.helpers import connect, token_for
from tests.conftest import PASSWORD

db = database_sync_to_async
NEW_PASSWORD = "Zeche-Zollverein-1986"


def browser(user: Any, agent: str = "Firefox auf Linux") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post("/anmelden/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def link_in(message: Any) -> str:
    found = re.search(r"http://\S+/(e-mail-[a-z]+)/(\S+)/", str(message.body))
    assert found, message.body
    return found.group(2)


@pytest.mark.django_db
def test_signup_sends_a_confirmation_link_and_keeps_unconfirmed_people_out_of_the_directory(
    anna: Any,
) -> None:
    created = anonymous().post(
        "/auth/signup",
        {"email": "Neu@Example.de", "password": NEW_PASSWORD, "display_name": "Nele Neumann"},
    )
    assert created.status_code == 201
    assert [m.to for m in mail.outbox] == [["neu@example.de"]]
    assert "bestätigen" in mail.outbox[0].subject
    nele = User.objects.get(email="neu@example.de")
    names = [p["display_name"] for p in as_user(anna).get("/people?q=Nele").json()["results"]]
    assert names == []
    nele_api = as_user(nele)
    assert nele_api.get("/me").json()["email_confirmed"] is False
    refused = nele_api.post("/companies", {"name": "Neumann Logistik"})
    assert refused.status_code == 403
    assert "bestätigen" in error_of(refused)["detail"]

    bad = anonymous().post("/auth/confirm-email", {"token": "gefälscht"})
    assert bad.status_code == 400
    confirmed = anonymous().post("/auth/confirm-email", {"token": link_in(mail.outbox[0])})
    assert confirmed.json()["email_confirmed"] is True
    names = [p["display_name"] for p in as_user(anna).get("/people?q=Nele").json()["results"]]
    assert names == ["Nele Neumann"]
    assert nele_api.post("/companies", {"name": "Neumann Logistik"}).status_code == 201


@pytest.mark.django_db
def test_the_confirmation_page_confirms_on_post_only() -> None:
    anonymous().post(
        "/auth/signup",
        {"email": "lea@example.de", "password": NEW_PASSWORD, "display_name": "Lea Lange"},
    )
    token = link_in(mail.outbox[0])
    page = Client().get(f"/e-mail-bestaetigen/{token}/")
    assert "Jetzt bestätigen" in page.content.decode()
    assert User.objects.get(email="lea@example.de").email_confirmed_at is None
    Client().post(f"/e-mail-bestaetigen/{token}/")
    assert User.objects.get(email="lea@example.de").email_confirmed_at is not None
    broken = Client().post("/e-mail-bestaetigen/kaputt/")
    assert broken.status_code == 400
    assert "ungültig oder abgelaufen" in broken.content.decode()


@pytest.mark.django_db
def test_password_change_ends_other_sessions_and_every_token(anna: Any) -> None:
    here, elsewhere = browser(anna, "Firefox"), browser(anna, "Safari auf dem iPhone")
    raw = token_for(anna)
    program = JsonClient(Client(), headers={"Authorization": f"Bearer {raw}"})
    assert program.get("/me").status_code == 200
    sessions = JsonClient(here).get("/me/sessions").json()["results"]
    assert sorted(s["user_agent"] for s in sessions) == ["Firefox", "Safari auf dem iPhone"]
    assert [s["current"] for s in sessions if s["user_agent"] == "Firefox"] == [True]

    wrong = JsonClient(here).post(
        "/me/password", {"current_password": "falsch", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400
    assert error_of(wrong)["fields"] == {"password": ["Das Passwort stimmt nicht."]}
    weak = JsonClient(here).post(
        "/me/password", {"current_password": PASSWORD, "new_password": "123"}
    )
    assert set(error_of(weak)["fields"]) == {"new_password"}
    assert program.get("/me").status_code == 200

    changed = JsonClient(here).post(
        "/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    assert JsonClient(here).get("/me").status_code == 200
    assert JsonClient(elsewhere).get("/me").status_code == 401
    assert program.get("/me").status_code == 401
    assert not AccessToken.objects.filter(user=anna, revoked_at__isnull=True).exists()
    remaining = JsonClient(here).get("/me/sessions").json()["results"]
    assert [(s["user_agent"], s["current"]) for s in remaining] == [("Firefox", True)]
    assert Client().login(email=anna.email, password=NEW_PASSWORD)


@pytest.mark.django_db
def test_the_security_page_changes_the_password_in_german(anna: Any) -> None:
    here = browser(anna)
    page = here.get("/einstellungen/sicherheit/").content.decode()
    assert "Angemeldete Browser" in page
    assert "Passwort ändern" in page
    wrong = here.post(
        "/einstellungen/sicherheit/passwort/",
        {"current_password": "falsch", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 400
    assert "Das Passwort stimmt nicht." in wrong.content.decode()
    done = here.post(
        "/einstellungen/sicherheit/passwort/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        follow=True,
    )
    assert "Ihr Passwort ist geändert" in done.content.decode()


@pytest.mark.django_db
def test_ending_one_session_signs_that_browser_out(anna: Any, bernd: Any) -> None:
    here, elsewhere = browser(anna, "Firefox"), browser(anna, "Chrome")
    other = UserSession.objects.get(user=anna, user_agent="Chrome")
    assert JsonClient(Client()).delete(f"/me/sessions/{other.pk}").status_code == 401
    assert as_user(bernd).delete(f"/me/sessions/{other.pk}").status_code == 404
    assert JsonClient(here).delete(f"/me/sessions/{other.pk}").status_code == 204
    assert JsonClient(elsewhere).get("/me").status_code == 401
    assert JsonClient(here).get("/me").status_code == 200
    assert as_user(anna).delete(f"/me/sessions/{other.pk}").status_code == 404


@pytest.mark.django_db
def test_password_reset_ends_every_session_and_token(anna: Any) -> None:
    signed_in = browser(anna)
    raw = token_for(anna)
    Client().post("/passwort-vergessen/", {"email": anna.email})
    assert len(mail.outbox) == 1
    link = re.search(r"/passwort-neu/(\S+)/(\S+)/", str(mail.outbox[0].body))
    assert link
    reset = Client()
    form_page = reset.get(link.group(0), follow=True)
    response = reset.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert JsonClient(signed_in).get("/me").status_code == 401
    program = JsonClient(Client(), headers={"Authorization": f"Bearer {raw}"})
    assert program.get("/me").status_code == 401
    assert not UserSession.objects.filter(user=anna).exists()


@pytest.mark.django_db
def test_email_change_needs_the_password_and_the_link_of_the_new_address(
    anna: Any, bernd: Any
) -> None:
    here, elsewhere = browser(anna, "Firefox"), browser(anna, "Chrome")
    api = JsonClient(here)
    assert api.post("/me/email", {"password": "falsch", "email": "a@b.de"}).status_code == 400
    taken = api.post("/me/email", {"password": PASSWORD, "email": bernd.email})
    assert taken.status_code == 409
    asked = api.post("/me/email", {"password": PASSWORD, "email": "anna.neu@example.de"})
    assert asked.status_code == 202
    to_new, to_old = mail.outbox
    assert (to_new.to, to_old.to) == (["anna.neu@example.de"], [anna.email])
    assert "erst wirksam" in to_old.body
    assert api.get("/me").json()["email"] == "anna@example.de"
    token = link_in(to_new)
    changed = api.post("/auth/confirm-email-change", {"token": token})
    assert changed.json()["email"] == "anna.neu@example.de"
    assert api.get("/me").json()["email"] == "anna.neu@example.de"
    assert JsonClient(elsewhere).get("/me").status_code == 401
    assert api.post("/auth/confirm-email-change", {"token": token}).status_code == 400
    assert Client().login(email="anna.neu@example.de", password=PASSWORD)


async def socket_of_another_browser(user: Any) -> WebsocketCommunicator:
    """A socket opened in a browser session of `user` of its own (past `hello`)."""
    browser_session = Client()
    assert await db(browser_session.login)(email=user.email, password=PASSWORD)
    cookie = f"sessionid={browser_session.cookies['sessionid'].value}".encode()
    tab = WebsocketCommunicator(
        application, "/ws/v1/", headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)]
    )
    assert (await tab.connect())[0]
    assert json.loads(await tab.receive_from())["type"] == "hello"
    return tab


@pytest.mark.django_db(transaction=True)
async def test_password_change_closes_the_other_sockets(make_user: Any) -> None:
    anna = await db(make_user)("Anna Becker")
    tab = await socket_of_another_browser(anna)
    program = await connect(anna)
    here = Client()
    assert await db(here.login)(email=anna.email, password=PASSWORD)
    response = await db(JsonClient(here).post)(
        "/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204
    assert await tab.receive_output(timeout=5) == {"type": "websocket.close", "code": 4001}
    closed = await program.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4001}


@pytest.mark.django_db(transaction=True)
async def test_an_email_change_closes_the_other_sessions_sockets_not_the_tokens(
    make_user: Any,
) -> None:
    from django.core import signing

    from accounts.actions import EMAIL_CHANGE_SALT, do_confirm_email_change

    anna = await db(make_user)("Anna Becker")
    tab = await socket_of_another_browser(anna)
    program = await connect(anna)
    link = signing.dumps(
        {"u": anna.pk, "o": anna.email, "e": "anna.neu@example.de"}, salt=EMAIL_CHANGE_SALT
    )
    await db(do_confirm_email_change)(token=link, current_session=None)
    assert await tab.receive_output(timeout=5) == {"type": "websocket.close", "code": 4001}
    # The token still holds (it does not carry the address), and so does its socket.
    assert (await program.request({"type": "ping"}, "pong"))["type"] == "pong"
    await program.close()


@pytest.mark.django_db(transaction=True)
async def test_password_reset_closes_every_socket(make_user: Any) -> None:
    from accounts.actions import do_reset_password

    anna = await db(make_user)("Anna Becker")
    first, second = await connect(anna), await connect(anna)
    await db(do_reset_password)(user=anna, new_password=NEW_PASSWORD)
    for client in (first, second):
        closed = await client.communicator.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4001}
