"""Deleting an account (DSGVO Art. 17): a person with distinctive values in every
field is deleted, then every table (every column, and the search vectors of the
messages) and every API answer of the others is searched for those values."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client

from accounts.actions import (
    do_block_person,
    do_claim_company,
    do_confirm_company_member,
    do_create_company,
    do_create_token,
    do_update_profile,
)
from accounts.models import Company, CompanyMember, User
from accounts.privacy import do_delete_person
from chat.actions import do_get_or_create_direct_conversation, do_report_message, do_send_message
from chat.models import Message
from groups.actions import (
    do_approve_join_request,
    do_change_member_role,
    do_create_group,
    do_invite_to_group,
    do_join_group,
)
from groups.models import Group, Membership
from tests.accounts.conftest import JsonClient, anonymous, as_user, error_of
from tests.chat.helpers import connect, token_for
from tests.conftest import PASSWORD

db = database_sync_to_async

# Every value is a word no other row of the test contains.
PROFILE = {
    "display_name": "Xanthippe Quorkelbaum",
    "job_title": "Zwirbelmeisterin",
    "company_name": "Plumquatsch Fabrik",
    "city": "Wuxlingen",
    "phone": "0999 7778881",
    "bio": "Sammelt Qwertzbirnen",
    "topics": ["Frobozzkunde"],
}
EMAIL = "xanthippe.quorkel@unikat-beispiel.de"
PERSONAL = [
    "Quorkelbaum",
    "Zwirbelmeisterin",
    "Plumquatsch",
    "Wuxlingen",
    "7778881",
    "Qwertzbirnen",
    "Frobozzkunde",
    "unikat-beispiel",
    "Schnorpsverantwortung",  # company responsibility
    "Tokenzorx",  # token name
    "Beitrittsflehen",  # join request text
    "Meldegrundwuxl",  # reason of a report made
    "Browserquirk",  # user agent of a session
]
MESSAGE_WORDS = ["Knallfroschgesang", "Blubberquatschdirekt"]


def enact(make_user: Any) -> dict[str, Any]:
    """The person and everything they did, through the same actions the UI uses."""
    xan = User.objects.create_user(email=EMAIL, password=PASSWORD, display_name="x")
    do_update_profile(actor=xan, changes=PROFILE)
    mara, olaf, paul = make_user("Mara Ostrowski"), make_user("Olaf Pieper"), make_user("Paul R.")
    own = do_create_group(actor=xan, name="Stammtisch Nord", visibility="closed")
    do_invite_to_group(actor=xan, group=own, user_id=mara.pk)
    asked = do_join_group(actor=olaf, group=own, message="Hallo")
    do_approve_join_request(actor=xan, group=own, request_id=asked.pk)
    closed = do_create_group(actor=paul, name="Vorstand", visibility="closed")
    do_join_group(actor=xan, group=closed, message="Beitrittsflehen bitte")
    open_group = do_create_group(actor=paul, name="Offene Runde")
    do_join_group(actor=xan, group=open_group)
    do_join_group(actor=mara, group=open_group)
    do_change_member_role(actor=paul, group=open_group, user_id=mara.pk, role="admin")
    alone = do_create_group(actor=xan, name="Nur ich")
    do_send_message(
        actor=xan,
        conversation_id=open_group.conversation_id,
        body=f"{MESSAGE_WORDS[0]} für alle, @Paul R.",
        client_id="x1",
    )
    dm, _ = do_get_or_create_direct_conversation(actor=xan, other_user_id=paul.pk)
    do_send_message(actor=xan, conversation_id=dm.pk, body=MESSAGE_WORDS[1], client_id="x2")
    pauls, _ = do_send_message(
        actor=paul, conversation_id=open_group.conversation_id, body="Moin", client_id="p1"
    )
    do_report_message(actor=xan, message_id=pauls.pk, reason="Meldegrundwuxl")
    firm = do_create_company(actor=paul, fields={"name": "Pieper Bau"})
    do_claim_company(actor=xan, company=firm, responsibility="Schnorpsverantwortung")
    do_confirm_company_member(actor=paul, company=firm, user_id=xan.pk)
    own_firm = do_create_company(actor=xan, fields={"name": "Eigene GmbH"})
    do_claim_company(actor=olaf, company=own_firm)
    do_confirm_company_member(actor=xan, company=own_firm, user_id=olaf.pk)
    do_create_token(actor=xan, name="Tokenzorx")
    do_block_person(actor=xan, person=olaf)
    do_block_person(actor=mara, person=xan)
    browser = Client(HTTP_USER_AGENT="Browserquirk 1.0")
    browser.post("/anmelden/", {"email": EMAIL, "password": PASSWORD})
    LogEntry.objects.create(
        user_id=paul.pk,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(xan.pk),
        object_repr=str(xan),
        action_flag=CHANGE,
        change_message="Quorkelbaum geändert",
    )
    return {
        "xan": xan,
        "mara": mara,
        "olaf": olaf,
        "paul": paul,
        "own": own,
        "closed": closed,
        "open": open_group,
        "alone": alone,
        "dm": dm,
        "firm": firm,
        "own_firm": own_firm,
        "browser": browser,
    }


def every_table_as_text() -> str:
    """Every row of every table, every column cast to text; for messages also the
    German search vector the full-text index is built on."""
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (own table names)
            parts.extend(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT to_tsvector('german'::regconfig, body)::text FROM chat_message")
        parts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(parts).casefold()


def every_answer_as_text(cast: dict[str, Any]) -> str:
    """What the others can ask the API and the pages after the deletion."""
    texts = []
    for viewer in ("mara", "olaf", "paul"):
        api = as_user(cast[viewer])
        paths = [
            "/me",
            "/me/export",
            "/people",
            "/people?q=Quorkelbaum",
            "/companies",
            f"/companies/{cast['firm'].slug}",
            f"/companies/{cast['own_firm'].slug}",
            "/groups",
            "/conversations",
            "/notifications",
            "/invitations",
            "/search?q=Knallfroschgesang",
            "/me/blocked",
        ]
        for group in ("own", "closed", "open", "alone"):
            slug = Group.objects.get(pk=cast[group].pk).slug
            paths += [f"/groups/{slug}", f"/groups/{slug}/members", f"/groups/{slug}/requests"]
            paths.append(f"/conversations/{cast[group].conversation_id}/messages")
        paths.append(f"/conversations/{cast['dm'].pk}/messages")
        for path in paths:
            response = api.get(path)
            assert response.status_code in (200, 403, 404), (path, response.content)
            texts.append(response.content.decode())
        page_client = Client()
        page_client.force_login(cast[viewer])
        for page in ("/", "/personen/", "/unternehmen/", "/benachrichtigungen/", "/gruppen/"):
            texts.append(page_client.get(page).content.decode())
    return "\n".join(texts).casefold()


def found(words: list[str], haystack: str) -> list[str]:
    return [word for word in words if word.casefold() in haystack]


@pytest.mark.postgres("every table is searched through PostgreSQL's row-to-text cast")
@pytest.mark.django_db
@pytest.mark.parametrize("delete_messages", [False, True])
def test_nothing_of_a_deleted_person_is_left_anywhere(
    make_user: Any, delete_messages: bool
) -> None:
    cast = enact(make_user)
    before = every_table_as_text()
    assert found(PERSONAL + MESSAGE_WORDS, before) == PERSONAL + MESSAGE_WORDS

    api = JsonClient(cast["browser"])
    response = api.delete("/me", {"password": PASSWORD, "delete_messages": delete_messages})
    assert response.status_code == 204, response.content

    assert found(PERSONAL, every_table_as_text()) == []
    assert found(PERSONAL, every_answer_as_text(cast)) == []
    kept = found(MESSAGE_WORDS, every_table_as_text())
    assert kept == ([] if delete_messages else MESSAGE_WORDS)
    assert not User.objects.filter(email=EMAIL).exists()
    assert api.get("/me").status_code == 401


@pytest.mark.django_db
def test_messages_stay_with_an_anonymous_author_and_groups_find_new_owners(
    make_user: Any,
) -> None:
    cast = enact(make_user)
    do_delete_person(actor=cast["xan"], person=cast["xan"], password=PASSWORD)
    history = as_user(cast["paul"]).get(f"/conversations/{cast['open'].conversation_id}/messages")
    first = history.json()["results"][0]
    assert first["author"] == {
        "id": None,
        "display_name": "Ehemaliges Mitglied",
        "company": "",
        "company_verified": False,
    }
    assert first["body"].startswith("Knallfroschgesang")
    # The only owner's closed group passes to its longest member; the lonely one is archived.
    owners = Membership.objects.filter(group=cast["own"], role="owner")
    assert [m.user_id for m in owners] == [cast["olaf"].pk]
    assert Group.objects.get(pk=cast["alone"].pk).archived_at is not None
    notification = as_user(cast["olaf"]).get("/notifications").json()["results"][0]
    assert notification["kind"] == "role_changed"
    assert notification["data"]["changed_by"]["display_name"] == "Ehemaliges Mitglied"
    # The company the person ran alone keeps an admin.
    admins = CompanyMember.objects.filter(company=cast["own_firm"], role="admin")
    assert [m.user_id for m in admins] == [cast["olaf"].pk]
    assert Company.objects.filter(pk=cast["own_firm"].pk).exists()
    # The address is free for a new account.
    again = anonymous().post(
        "/auth/signup", {"email": EMAIL, "password": "Neuanfang-2027", "display_name": "X"}
    )
    assert again.status_code == 201


@pytest.mark.django_db
def test_deletion_needs_the_password_and_a_boolean(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    api = as_user(anna)
    wrong = api.delete("/me", {"password": "falsch"})
    assert error_of(wrong)["fields"] == {"password": ["Das Passwort stimmt nicht."]}
    odd = api.delete("/me", {"password": PASSWORD, "delete_messages": "ja"})
    assert odd.status_code == 400
    assert "delete_messages" in error_of(odd)["fields"]
    assert User.objects.filter(pk=anna.pk).exists()


@pytest.mark.django_db
def test_the_delete_page_spells_out_the_consequences_and_deletes(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    client = Client()
    client.force_login(anna)
    page = client.get("/einstellungen/konto-loeschen/").content.decode()
    for words in ("nicht rückgängig", "Ehemaliges Mitglied", "archiviert", "Zugänge"):
        assert words in page
    wrong = client.post("/einstellungen/konto-loeschen/", {"password": "falsch"})
    assert wrong.status_code == 400
    assert "Das Passwort stimmt nicht." in wrong.content.decode()
    done = client.post("/einstellungen/konto-loeschen/", {"password": PASSWORD}, follow=True)
    assert "Ihr Konto ist gelöscht" in done.content.decode()
    assert not User.objects.filter(pk=anna.pk).exists()


@pytest.mark.postgres("every table is searched through PostgreSQL's row-to-text cast")
@pytest.mark.django_db
def test_the_operator_deletes_from_the_admin(make_user: Any) -> None:
    cast = enact(make_user)
    staff = User.objects.create_superuser(email="kammer@example.de", password=PASSWORD)
    admin = Client()
    admin.force_login(staff)
    url = f"/admin/accounts/user/{cast['xan'].pk}/delete/"
    confirm = admin.get(url)
    assert confirm.status_code == 200
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert not User.objects.filter(pk=cast["xan"].pk).exists()
    assert found(PERSONAL, every_table_as_text()) == []
    assert Message.objects.filter(author__isnull=True).count() == 2


@pytest.mark.django_db
def test_only_the_person_or_staff_may_delete(make_user: Any) -> None:
    anna, bernd = make_user("Anna Becker"), make_user("Bernd Schütte")
    from realtime.errors import ClientError

    with pytest.raises(ClientError) as refused:
        do_delete_person(actor=bernd, person=anna)
    assert refused.value.code == "forbidden"


@pytest.mark.django_db(transaction=True)
async def test_deletion_closes_every_socket(make_user: Any) -> None:
    anna = await db(make_user)("Anna Becker")
    first, second = await connect(anna), await connect(anna)
    raw = await db(token_for)(anna)
    program = JsonClient(Client(), headers={"Authorization": f"Bearer {raw}"})
    response = await db(program.delete)("/me", {"password": PASSWORD})
    assert response.status_code == 204
    for client in (first, second):
        closed = await client.communicator.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4001}
