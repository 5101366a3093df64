"""Suggestions (`GET /me/suggestions`), the welcome steps after sign-up and the start
page: never empty for a newcomer, never a closed group's content, never a block."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from accounts.models import Block
from tests.notifications.conftest import Api, direct_conversation

from .conftest import company_contact, make_group, post_message


def ago(**delta: float) -> datetime:
    """Pages use the real clock."""
    return timezone.now() - timedelta(**delta)


def page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def network(make_user: Any) -> dict[str, Any]:
    owner = make_user("Olaf Owner", city="Herne")
    groups = {
        "ausbildung": make_group("Ausbildung Herne", owner, make_user(), make_user()),
        "logistik": make_group("Logistik Ruhr", owner),
        "geheim": make_group("Geheimrunde Ausbildung", owner, visibility="closed"),
        "stammtisch": make_group("Stammtisch Bochum", owner, make_user(), make_user(), make_user()),
    }
    for key, topics, city in [
        ("ausbildung", ["Ausbildung"], "Herne"),
        ("logistik", ["Logistik"], ""),
        ("geheim", ["Ausbildung"], "Herne"),
        ("stammtisch", [], "Bochum"),
    ]:
        groups[key].topics, groups[key].city = topics, city
        groups[key].save()
    post_message(
        groups["geheim"].conversation, owner, "Vertraulich: Wer übernimmt 2027?", ago(hours=1)
    )
    return groups


def test_suggestions_follow_topics_and_city_with_a_german_reason(make_user: Any) -> None:
    groups = network(make_user)
    me = make_user("Nina Neu", topics=["Ausbildung"], city="Herne")
    make_user("Erika Expertin", topics=["Ausbildung"], city="Witten")
    talked = make_user("Schon Bekannt", topics=["Ausbildung"])
    direct_conversation(me, talked)
    blocker = make_user("Blockt Mich", topics=["Ausbildung"])
    Block.objects.create(blocker=blocker, blocked=me)
    neighbour = make_user("Nachbar Metall", city="Herne")
    company_contact(neighbour, "Stahlbau Herne", "Vertrieb", industry="Metallbau", city="Herne")
    company_contact(me, "Schlosserei Herne", "Ausbildung", industry="Metallbau", city="Herne")

    body = Api(me).get("/me/suggestions").json()

    names = [g["name"] for g in body["groups"]]
    assert names[0] == "Ausbildung Herne"
    assert body["groups"][0]["reason"] == "Thema Ausbildung, Herne"
    assert set(names) >= {"Geheimrunde Ausbildung", "Stammtisch Bochum", "Logistik Ruhr"}
    closed = next(g for g in body["groups"] if g["name"] == "Geheimrunde Ausbildung")
    assert set(closed) == {
        "slug",
        "name",
        "description",
        "visibility",
        "topics",
        "city",
        "member_count",
        "reason",
        "url",
    }
    assert "Vertraulich" not in str(body)
    people = {p["display_name"]: p for p in body["people"]}
    # Not who blocked me, not whom I already talk to, not Olaf (only the same city).
    assert set(people) == {"Erika Expertin", "Nachbar Metall"}
    assert people["Erika Expertin"]["reason"] == "Thema Ausbildung"
    assert people["Nachbar Metall"]["reason"] == "Metallbau in Herne"
    assert "email" not in people["Erika Expertin"] and "phone" not in people["Erika Expertin"]
    assert body["posts"] == []
    # Joined groups leave the suggestions.
    Api(me).post(f"/groups/{groups['ausbildung'].slug}/join", {})
    again = Api(me).get("/me/suggestions").json()
    assert "Ausbildung Herne" not in [g["name"] for g in again["groups"]]


def test_a_newcomer_without_topics_gets_the_liveliest_open_groups(make_user: Any) -> None:
    network(make_user)
    newcomer = make_user("Neu Ling")
    body = Api(newcomer).get("/me/suggestions").json()
    assert [g["name"] for g in body["groups"]] == [
        "Stammtisch Bochum",
        "Ausbildung Herne",
        "Logistik Ruhr",
    ]
    assert body["groups"][0]["reason"] == "Lebhafte offene Gruppe mit 4 Mitgliedern"
    home = page(newcomer).get("/").content.decode()
    assert "Vorschläge für Sie" in home
    assert "Stammtisch Bochum" in home
    assert "Themen wählen" in home


def test_anonymous_gets_401(db: Any) -> None:
    assert Api(None).get("/me/suggestions").status_code == 401


def test_sign_up_leads_to_topics_then_a_first_group(make_user: Any) -> None:
    groups = network(make_user)
    client = Client()
    signed_up = client.post(
        "/registrieren/",
        {"email": "neu@example.de", "password": "Glueckauf-Ruhr-2026", "display_name": "Neu Ling"},
    )
    assert signed_up.status_code == 302
    assert signed_up["Location"] == "/willkommen/"
    step1 = client.get("/willkommen/").content.decode()
    assert "Schritt 1 von 2" in step1 and 'value="Ausbildung"' in step1
    bad = client.post("/willkommen/", {"topics": ["x" * 200], "city": "Herne"})
    assert bad.status_code == 400
    assert "Ein Thema hat höchstens 40 Zeichen." in bad.content.decode()
    done = client.post(
        "/willkommen/", {"topics": ["Ausbildung"], "more_topics": "Schweißen, ", "city": "Herne"}
    )
    assert done["Location"] == "/willkommen/gruppe/"
    me = Api(None)
    me.client = client
    profile = me.get("/me").json()
    assert profile["topics"] == ["Ausbildung", "Schweißen"]
    assert profile["city"] == "Herne"
    step2 = client.get("/willkommen/gruppe/").content.decode()
    assert step2.index("Ausbildung Herne") < step2.index("Stammtisch Bochum")
    assert "Thema Ausbildung, Herne" in step2
    joined = client.post("/willkommen/gruppe/", {"group": groups["ausbildung"].slug}, follow=True)
    assert "Willkommen in „Ausbildung Herne“! Stellen Sie gleich Ihre erste Frage" in (
        joined.content.decode()
    )
    assert joined.redirect_chain[-1][0] == f"/gruppen/{groups['ausbildung'].slug}/"
    unknown = client.post("/willkommen/gruppe/", {"group": "gibt-es-nicht"}, follow=True)
    assert unknown.status_code == 200
    assert "nicht" in unknown.content.decode().lower()


def test_start_page_and_group_page_show_open_questions(make_user: Any) -> None:
    groups = network(make_user)
    helper = make_user("Hilde Hilfreich", topics=["Ausbildung"])
    asker = make_user("Fritz Frage")
    group = groups["ausbildung"]
    Api(helper).post(f"/groups/{group.slug}/join", {})
    Api(asker).post(f"/groups/{group.slug}/join", {})
    answered = post_message(
        group.conversation, asker, "Wie lange dauert die Zwischenprüfung?", ago(hours=3)
    )
    post_message(group.conversation, helper, "Einen Tag.", ago(hours=2))
    post_message(
        group.conversation, asker, "Wer nimmt im Sommer Praktikanten für Ausbildung?", ago(hours=1)
    )
    home = page(helper).get("/").content.decode()
    assert "Hier können Sie helfen" in home
    assert "Wer nimmt im Sommer Praktikanten" in home
    assert "Passt zu Ihnen, weil „Ausbildung“ eines Ihrer Themen ist" in home
    assert answered.body not in home
    detail = page(helper).get(f"/gruppen/{group.slug}/").content.decode()
    assert "Offene Fragen" in detail
    assert "Wer nimmt im Sommer Praktikanten" in detail
    assert answered.body not in detail
    # The closed group's open question shows to nobody outside it.
    outsider_view = page(helper).get(f"/gruppen/{groups['geheim'].slug}/").content.decode()
    assert "Vertraulich" not in outsider_view
