"""Bad input anywhere on the board's API: a clear 4xx JSON error, nothing stored, never
a 500; and the permission cells of docs/board.md, allowed and forbidden from one setup."""

from __future__ import annotations

from typing import Any

import pytest

from board.models import Contact, Post, SavedSearch
from tests.board.conftest import Board, freight

pytestmark = pytest.mark.django_db

GARBAGE: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "x" * 5000,
    [],
    {},
    ["a"],
    {"a": 1},
    "\x00",
    "\ud800",
]


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_in_any_post_field_is_a_400_or_harmless(board: Board, value: Any) -> None:
    """Each field in turn gets the value: either it is a valid one for that field
    (201) or the answer is a 400 naming that field; never anything else."""
    api = board.api(board.haulier)
    cases: list[tuple[str | None, str | None]] = [
        (name, None) for name in ("kind", "category", "title", "fields", "valid_until", "body")
    ]
    cases += [(None, name) for name in freight("offer")["fields"]]
    for top, inner in cases:
        body = freight("offer")
        if top is not None:
            body[top] = value
        else:
            body["fields"][inner] = value
        before = Post.objects.count()
        response = api.post("/groups/mobilitaet/posts", body)
        assert response.status_code in (201, 400), (top, inner, value, response.content[:300])
        if response.status_code == 400:
            named = top if top is not None else f"fields.{inner}"
            fields = response.json()["error"]["fields"]
            assert any(k == named or k.startswith(f"{named}.") for k in fields), (named, fields)
            assert Post.objects.count() == before


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "cursor=abc",
        "kind=tausch",
        "status=alles",
        "date=morgen",
        "near=123",
        "km=0",
        "km=9999",
        "postcode=abcde",
        "occupation=Astronaut",
        "farbe=rot",
        "q=" + "x" * 300,
    ],
)
def test_bad_board_filters_are_400(board: Board, query: str) -> None:
    response = board.api(board.haulier).get(f"/board?{query}")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "bad_request"


def test_bad_patch_contact_and_search_bodies(board: Board) -> None:
    post = board.api(board.haulier).post("/groups/mobilitaet/posts", freight("offer")).json()
    shipper = board.api(board.shipper)
    for body in ({}, {"status": None}, {"status": 5}, {"status": ["filled"]}):
        assert board.api(board.haulier).patch(f"/posts/{post['id']}", body).status_code == 400
    for message in (5, ["x"], "x" * 2001):
        response = shipper.post(f"/posts/{post['id']}/contact", {"message": message})
        assert response.status_code == 400
    assert not Contact.objects.exists()
    searches: list[dict[str, Any]] = [
        {"name": 5},
        {"name": "x", "filters": []},
        {"name": "x", "alert": 1},
    ]
    for search in searches:
        assert shipper.post("/searches", search).status_code == 400
    assert not SavedSearch.objects.exists()
    for path in ("/posts/0", "/posts/99999999999999999999", "/posts/abc"):
        assert shipper.get(path).status_code in (400, 404)
    assert shipper.delete("/searches/abc").status_code in (400, 404)


def test_permission_cells(board: Board) -> None:
    """docs/board.md, "Who may do what": a closed group's post, every role."""
    post = board.api(board.shipper).post("/groups/logistikkreis/posts", freight("request")).json()
    path = f"/posts/{post['id']}"
    outsider, member, admin = (board.api(p) for p in (board.outsider, board.haulier, board.admin))
    assert outsider.get(path).status_code == 404
    assert outsider.patch(path, {"status": "withdrawn"}).status_code == 404
    assert outsider.post(f"{path}/contact", {}).status_code == 404
    assert outsider.get(f"{path}/matches").status_code == 404
    assert board.api(None).get(path).status_code == 401
    assert member.get(path).status_code == 200
    assert member.patch(path, {"status": "withdrawn"}).status_code == 403
    assert board.api(board.shipper).post(f"{path}/contact", {}).status_code == 400
    contact = member.post(f"{path}/contact", {})
    assert contact.status_code == 201
    assert admin.patch(path, {"status": "withdrawn"}).status_code == 200
    assert member.post(f"{path}/contact", {}).status_code == 409
