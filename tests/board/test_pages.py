"""The German pages: board, group tab, the form per category, post page, searches."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from board.models import Post, SavedSearch
from tests.board.conftest import Board, day, freight

pytestmark = pytest.mark.django_db


def browser(person: Any) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_board_in_the_navigation_and_the_tab_on_the_group(board: Board) -> None:
    page = browser(board.haulier).get("/gruppen/mobilitaet/").content.decode()
    assert 'href="/brett/"' in page
    assert "Gesuche &amp; Angebote" in page
    assert "/gruppen/mobilitaet/gesuche-angebote/" in page


def test_freight_form_shows_german_errors_beside_each_field_and_stores_nothing(
    board: Board,
) -> None:
    response = browser(board.haulier).post(
        "/gruppen/mobilitaet/gesuche-angebote/neu/",
        {
            "kategorie": "freight",
            "kind": "offer",
            "title": "Laderaum",
            "from_postcode": "447870",
            "from_city": "Bochum",
            # A foreign postcode (Rotterdam) is told that German ones are meant.
            "to_postcode": "3011",
            "to_city": "Rotterdam",
            "earliest": day(-2),
            "latest": day(3),
            "loading_metres": "14",
            "weight_t": "24",
            "vehicle": "plane",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Bitte eine deutsche Postleitzahl mit fünf Ziffern angeben." in page
    assert "Das Datum liegt in der Vergangenheit." in page
    assert "Erlaubt sind 0,1 bis 13,6 m." in page
    assert 'value="Bochum"' in page  # what was typed stays
    assert not Post.objects.exists()


def test_freight_form_publishes_and_lands_on_the_post(board: Board) -> None:
    client = browser(board.haulier)
    response = client.post(
        "/gruppen/mobilitaet/gesuche-angebote/neu/",
        {
            "kategorie": "freight",
            "kind": "offer",
            "title": "Laderaum Bochum → München",
            "from_postcode": "44787",
            "from_city": "Bochum",
            "to_postcode": "80331",
            "to_city": "München",
            "earliest": day(2),
            "latest": day(4),
            "loading_metres": "13,6",
            "weight_t": "24",
            "vehicle": "plane",
            "adr": "on",
        },
        follow=True,
    )
    post = Post.objects.get()
    assert response.redirect_chain[-1][0] == f"/brett/{post.pk}/"
    page = response.content.decode()
    assert "ist veröffentlicht" in page
    assert "13,6 m" in page
    assert post.fields["adr"] is True
    listed = browser(board.shipper).get("/brett/?kategorie=freight&ort=Bochum").content.decode()
    assert "Laderaum Bochum → München" in listed
    tab = browser(board.outsider).get("/gruppen/mobilitaet/gesuche-angebote/").content.decode()
    assert "Laderaum Bochum → München" in tab  # an open group's posts: every signed-in person


def test_apprenticeship_form_and_other_form_render(board: Board) -> None:
    client = browser(board.shipper)
    page = client.get("/gruppen/mobilitaet/gesuche-angebote/neu/?kategorie=apprenticeship")
    assert "Ausbildungsberuf" in page.content.decode()
    assert "Kaufmann/-frau für Büromanagement" in page.content.decode()  # the datalist
    page = client.get("/gruppen/mobilitaet/gesuche-angebote/neu/?kategorie=other")
    assert "Lademeter" not in page.content.decode()


def test_closed_group_tab_and_posts_hidden_from_outsiders(board: Board) -> None:
    created = board.api(board.shipper).post("/groups/logistikkreis/posts", freight("request"))
    post_id = created.json()["id"]
    outsider = browser(board.outsider)
    tab = outsider.get("/gruppen/logistikkreis/gesuche-angebote/").content.decode()
    assert "sehen nur ihre Mitglieder" in tab
    assert "Ladung nach München" not in tab
    assert outsider.get(f"/brett/{post_id}/").status_code == 404
    assert "Ladung nach München" not in outsider.get("/brett/").content.decode()
    assert outsider.get("/gruppen/logistikkreis/gesuche-angebote/neu/").status_code == 302
    assert "Ladung nach München" in browser(board.haulier).get("/brett/").content.decode()


def test_interest_opens_the_direct_conversation(board: Board) -> None:
    created = board.api(board.haulier).post("/groups/mobilitaet/posts", freight("offer")).json()
    response = browser(board.shipper).post(
        f"/brett/{created['id']}/interesse/", {"message": "Passt für uns!"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/nachrichten/")


def test_bad_filters_are_explained_not_a_500(board: Board) -> None:
    page = browser(board.haulier).get("/brett/?plz=abc&datum=gestern&nahe=99999&km=x")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Bitte eine bis fünf Ziffern der Postleitzahl angeben." in text
    assert "JJJJ-MM-TT" in text


def test_save_and_delete_a_search_from_the_pages(board: Board) -> None:
    client = browser(board.haulier)
    client.post(
        "/brett/suchen/speichern/", {"name": "Ab Bochum", "city": "Bochum", "alert": "daily"}
    )
    search = SavedSearch.objects.get(user=board.haulier)
    assert search.alert == "daily"
    assert search.filters == {"city": "Bochum"}
    page = client.get("/brett/suchen/").content.decode()
    assert "Ab Bochum" in page
    assert "täglichen Zusammenfassung" in page
    assert browser(board.shipper).post(f"/brett/suchen/{search.pk}/loeschen/").status_code == 404
    client.post(f"/brett/suchen/{search.pk}/loeschen/")
    assert not SavedSearch.objects.exists()


def test_start_page_shows_new_matches(board: Board) -> None:
    board.api(board.haulier).post("/groups/mobilitaet/posts", freight("offer"))
    board.api(board.shipper).post("/groups/mobilitaet/posts", freight("request"))
    page = browser(board.haulier).get("/").content.decode()
    assert "Neue Treffer" in page
    assert "Ladung nach München" in page
