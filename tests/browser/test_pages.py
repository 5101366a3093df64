"""The server-rendered pages of the UI through Django's test client (no browser):
start page, inbox, conversation page and the direct-message start endpoint."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.test import Client

from chat.actions import do_get_or_create_direct_conversation, do_send_message
from groups.actions import do_create_group, do_join_group


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def say(author: Any, conversation_id: int, body: str) -> None:
    do_send_message(
        actor=author, conversation_id=conversation_id, body=body, client_id=str(uuid.uuid4())
    )


def test_start_page_shows_my_groups_direct_messages_and_notifications(make_user) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    group = do_create_group(actor=anna, name="Ausbildung Witten", description="Azubis")
    do_join_group(actor=ben, group=group)
    say(anna, group.conversation_id, "Hallo @Ben Yilmaz")
    say(anna, group.conversation_id, "Noch eine")
    direct, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    say(anna, direct.pk, "Direkt an Ben")

    page = client_for(ben).get("/").content.decode()
    assert "Guten Tag, Ben Yilmaz" in page
    assert re.search(r"Ausbildung Witten</span>.*?2 ungelesen", page, re.S)
    assert re.search(
        r"Anna Becker</span></span>\s*<span class=\"badge\" aria-label=\"1 ungelesen\"", page
    )
    assert "hat Sie" in page  # the mention, in the latest notifications
    assert 'action="/abmelden/"' in page and "csrfmiddlewaretoken" in page


def test_start_page_for_visitors_offers_sign_up_and_shows_only_open_groups(make_user) -> None:
    anna = make_user("Anna Becker")
    do_create_group(actor=anna, name="Offene Runde", visibility="open")
    do_create_group(actor=anna, name="Geheimer Kreis", visibility="closed")
    page = Client().get("/").content.decode()
    assert "Kostenlos registrieren" in page
    assert "Offene Runde" in page
    assert "Geheimer Kreis" not in page
    assert "netzn.js" not in page  # no socket for visitors


def test_inbox_lists_conversations_newest_first_with_unread_counts(make_user) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    clara = make_user("Clara Nowak")
    quiet = do_create_group(actor=anna, name="Stille Gruppe")
    first, _ = do_get_or_create_direct_conversation(actor=ben, other_user_id=anna.pk)
    say(ben, first.pk, "Erste")
    second, _ = do_get_or_create_direct_conversation(actor=clara, other_user_id=anna.pk)
    say(clara, second.pk, "Zweite")
    say(clara, second.pk, "Dritte")

    page = client_for(anna).get("/nachrichten/").content.decode()
    order = [page.index(name) for name in ("Clara Nowak", "Ben Yilmaz", quiet.name)]
    assert order == sorted(order)
    assert 'aria-label="2 ungelesen"' in page
    assert 'aria-label="1 ungelesen"' in page


def test_conversation_page_for_participants_and_the_same_403_for_others(make_user) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    eve = make_user("Eve Neugier")
    direct, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)

    page = client_for(ben).get(f"/nachrichten/{direct.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-conversation-id="{direct.pk}"' in html
    assert 'data-can-write="true"' in html
    assert "Anna Becker" in html

    forbidden = client_for(eve).get(f"/nachrichten/{direct.pk}/")
    missing = client_for(eve).get("/nachrichten/999999/")
    assert forbidden.status_code == missing.status_code == 403
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub(b"", forbidden.content) == token.sub(b"", missing.content)
    assert Client().get(f"/nachrichten/{direct.pk}/").status_code == 302  # to the login


def test_open_group_conversation_is_readable_but_not_writable_for_non_members(make_user) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    group = do_create_group(actor=anna, name="Offen für alle", visibility="open")
    html = client_for(ben).get(f"/nachrichten/{group.conversation_id}/").content.decode()
    assert 'data-can-write="false"' in html
    assert "<textarea" not in html


def test_message_button_creates_the_direct_conversation_once(make_user) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    client = client_for(anna)
    first = client.post(f"/nachrichten/an/{ben.pk}/")
    again = client.post(f"/nachrichten/an/{ben.pk}/")
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert re.fullmatch(r"/nachrichten/\d+/", first["Location"])
    assert client.get(f"/nachrichten/an/{ben.pk}/").status_code == 405
    assert client.post("/nachrichten/an/999999/").status_code == 403
    assert client.post(f"/nachrichten/an/{anna.pk}/").status_code == 400


def test_message_button_needs_the_csrf_token(make_user) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    client = Client(enforce_csrf_checks=True)
    client.force_login(anna)
    assert client.post(f"/nachrichten/an/{ben.pk}/").status_code == 403
