"""Own profile editing and contact-field privacy for owner, other member and anonymous,
across the API and the HTML pages."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.access import person_summary, public_profile
from accounts.actions import do_claim_company, do_confirm_company_member, do_create_company
from tests.accounts.conftest import anonymous, as_user, error_of, html_client

pytestmark = pytest.mark.django_db

EMAIL = "anna@example.de"
PHONE = "02302 555 0101"


@pytest.fixture
def company(anna: Any, make_user: Any) -> Any:
    """Stahlbau Rüther, with Anna as a confirmed contact person (admin: Carla)."""
    carla = make_user("Carla Admin")
    company = do_create_company(
        actor=carla, fields={"name": "Stahlbau Rüther", "city": "Witten"}, slug="stahlbau-ruether"
    )
    do_claim_company(actor=anna, company=company, responsibility="Ausbildung")
    do_confirm_company_member(actor=carla, company=company, user_id=anna.pk)
    return company


def pages_seen_by(viewer: Any, anna: Any) -> str:
    client = html_client(viewer)
    pages = [
        client.get(f"/personen/{anna.pk}/"),
        client.get("/personen/"),
        client.get("/personen/?q=Ausbildung"),
        client.get("/unternehmen/stahlbau-ruether/"),
    ]
    return "".join(page.content.decode() for page in pages)


def api_seen_by(viewer: Any, anna: Any) -> str:
    client = as_user(viewer) if viewer is not None else anonymous()
    answers = [
        client.get(f"/people/{anna.pk}"),
        client.get("/people"),
        client.get("/people?q=Ausbildung"),
        client.get("/companies/stahlbau-ruether"),
    ]
    return "".join(answer.content.decode() for answer in answers)


def open_contact_fields(anna: Any) -> None:
    response = as_user(anna).patch(
        "/me", {"email_visibility": "members", "phone_visibility": "members"}
    )
    assert response.status_code == 200


def test_a_new_profile_shows_contact_fields_to_its_owner_only(
    anna: Any, bernd: Any, company: Any
) -> None:
    assert EMAIL in pages_seen_by(anna, anna)
    assert PHONE in pages_seen_by(anna, anna)
    assert EMAIL in api_seen_by(anna, anna)
    for viewer in (bernd, None):
        html, api = pages_seen_by(viewer, anna), api_seen_by(viewer, anna)
        assert "Anna Becker" in api + html or viewer is None
        assert EMAIL not in html
        assert PHONE not in html
        assert EMAIL not in api
        assert PHONE not in api


def test_opened_contact_fields_reach_members_but_never_anonymous(
    anna: Any, bernd: Any, company: Any
) -> None:
    open_contact_fields(anna)
    assert EMAIL in pages_seen_by(bernd, anna)
    assert PHONE in pages_seen_by(bernd, anna)
    profile = as_user(bernd).get(f"/people/{anna.pk}").json()
    assert profile["email"] == EMAIL
    assert profile["phone"] == PHONE
    anonymous_html = pages_seen_by(None, anna)
    assert EMAIL not in anonymous_html
    assert PHONE not in anonymous_html
    assert EMAIL not in api_seen_by(None, anna)


def test_one_field_open_the_other_private(anna: Any, bernd: Any) -> None:
    as_user(anna).patch("/me", {"phone_visibility": "members"})
    profile = as_user(bernd).get(f"/people/{anna.pk}").json()
    assert "email" not in profile
    assert profile["phone"] == PHONE
    assert EMAIL not in html_client(bernd).get(f"/personen/{anna.pk}/").content.decode()


def test_anonymous_gets_401_from_the_api_and_the_login_page_from_person_pages(anna: Any) -> None:
    assert anonymous().get(f"/people/{anna.pk}").status_code == 401
    assert anonymous().get("/people").status_code == 401
    response = html_client().get(f"/personen/{anna.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/anmelden/?next=")


def test_company_page_hides_people_from_anonymous(anna: Any, company: Any) -> None:
    html = html_client().get("/unternehmen/stahlbau-ruether/").content.decode()
    assert "Stahlbau Rüther" in html
    assert "Anna Becker" not in html
    assert "Melden Sie sich an" in html


def test_summary_for_other_apps_has_no_contact_fields(anna: Any) -> None:
    anna.email_visibility = anna.phone_visibility = "members"
    summary = person_summary(anna)
    assert summary == {
        "id": anna.pk,
        "display_name": "Anna Becker",
        "company_name": "Stahlbau Rüther",
        "job_title": "Ausbildungsleiterin",
    }
    assert "email" in public_profile(anna, anna)


def test_get_and_patch_me(anna: Any) -> None:
    client = as_user(anna)
    me = client.get("/me").json()
    assert me["email"] == EMAIL
    assert me["email_visibility"] == "private"
    assert me["topics"] == ["Ausbildung", "Stahlbau"]
    response = client.patch(
        "/me",
        {
            "display_name": "Anna Becker-Öztürk",
            "job_title": "Leiterin Ausbildung",
            "city": "Bochum",
            "bio": "Ausbildung im Metallbau.",
            "topics": ["Ausbildung", " ausbildung ", "Fachkräfte  Ruhr", ""],
            "phone": "+49 2302 555-0101",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Anna Becker-Öztürk"
    assert body["topics"] == ["Ausbildung", "Fachkräfte Ruhr"]
    assert body["company_name"] == "Stahlbau Rüther"
    anna.refresh_from_db()
    assert anna.city == "Bochum"
    assert anna.phone == "+49 2302 555-0101"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"email_visibility": "public"}, "email_visibility"),
        ({"phone_visibility": 3}, "phone_visibility"),
        ({"display_name": ""}, "display_name"),
        # Names that show nothing: zero-width, bidi controls, Hangul fillers, a BOM.
        ({"display_name": "\u200b"}, "display_name"),
        ({"display_name": "\u202e"}, "display_name"),
        ({"display_name": "\u3164"}, "display_name"),
        ({"display_name": "\ufeff \u200b"}, "display_name"),
        ({"city": "x" * 101}, "city"),
        ({"phone": "ruf mich an"}, "phone"),
        ({"topics": "Ausbildung"}, "topics"),
        ({"topics": [1, 2]}, "topics"),
        ({"topics": [f"Thema {n}" for n in range(21)]}, "topics"),
        ({"topics": ["x" * 41]}, "topics"),
        ({"bio": "x" * 2001}, "bio"),
    ],
)
def test_patch_me_bad_input_is_400_and_changes_nothing(
    anna: Any, patch: dict[str, Any], field: str
) -> None:
    response = as_user(anna).patch("/me", {"city": "Hattingen", **patch})
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    anna.refresh_from_db()
    assert anna.city == "Witten"


def test_bidi_controls_are_taken_out_of_names(anna: Any) -> None:
    """ "\u202eAnna Becker" would show mirrored: a name posing as another."""
    response = as_user(anna).patch("/me", {"display_name": "\u202eAnna \u2066Becker\u2069"})
    assert response.status_code == 200
    anna.refresh_from_db()
    assert anna.display_name == "Anna Becker"


def test_me_needs_a_login() -> None:
    assert anonymous().get("/me").status_code == 401
    assert anonymous().patch("/me", {"city": "Herne"}).status_code == 401
    assert anonymous().patch("/me", "{kaputt").status_code in (400, 401)


def test_profile_settings_page_edits_and_opens_contact_fields(anna: Any, bernd: Any) -> None:
    client = html_client(anna)
    page = client.get("/einstellungen/profil/").content.decode()
    assert 'value="Ausbildung, Stahlbau"' in page
    assert 'href="/benachrichtigungen/einstellungen/">Benachrichtigungen</a>' in page
    assert client.get("/einstellungen/")["Location"] == "/einstellungen/profil/"
    response = client.post(
        "/einstellungen/profil/",
        {
            "display_name": "Anna Becker",
            "job_title": "Ausbildungsleiterin",
            "company_name": "Stahlbau Rüther",
            "city": "Witten",
            "topics": "Ausbildung, Schweißen",
            "bio": "",
            "phone": PHONE,
            "email_visibility": "members",
            "phone_visibility": "private",
        },
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.topics == ["Ausbildung", "Schweißen"]
    other = html_client(bernd).get(f"/personen/{anna.pk}/").content.decode()
    assert EMAIL in other
    assert PHONE not in other
    assert "Schweißen" in other


def test_profile_settings_page_shows_german_errors(anna: Any) -> None:
    response = html_client(anna).post(
        "/einstellungen/profil/",
        {
            "display_name": "",
            "phone": "ruf an",
            "email_visibility": "alle",
            "phone_visibility": "private",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Dieses Feld ist zwingend erforderlich." in html
    assert "Bitte eine gültige Auswahl treffen." in html
    anna.refresh_from_db()
    assert anna.display_name == "Anna Becker"


def test_profile_settings_page_shows_action_errors_next_to_the_field(anna: Any) -> None:
    response = html_client(anna).post(
        "/einstellungen/profil/",
        {
            "display_name": "Anna",
            "phone": "ruf mich an",
            "email_visibility": "private",
            "phone_visibility": "private",
        },
    )
    assert response.status_code == 400
    assert "Bitte nur Ziffern" in response.content.decode()


def test_unknown_person_is_404(anna: Any) -> None:
    response = as_user(anna).get("/people/999999")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert as_user(anna).get("/people/abc").status_code == 400
    assert html_client(anna).get("/personen/999999/").status_code == 404


def test_deactivated_person_is_not_found(anna: Any, make_user: Any) -> None:
    gone = make_user("Weg", is_active=False)
    assert as_user(anna).get(f"/people/{gone.pk}").status_code == 404
    names = [p["display_name"] for p in as_user(anna).get("/people").json()["results"]]
    assert "Weg" not in names
