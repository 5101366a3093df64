"""Small things that cost trust (issue 15), through the pages (Django's test client):
the profile preview shows what others see, leaving a group asks first, a block is not
revealed, Impressum and Datenschutz come from settings, German that fits."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.actions import do_block_person, do_create_company, do_update_profile
from chat.actions import do_get_or_create_direct_conversation
from groups.actions import do_approve_join_request, do_create_group, do_join_group
from groups.models import Membership
from tests.accounts.conftest import html_client

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return response.content.decode()


def test_the_profile_preview_shows_what_others_see(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    do_update_profile(
        actor=anna,
        changes={
            "phone": "02302 555 0101",
            "phone_visibility": "private",
            "email_visibility": "members",
        },
    )
    settings_page = text(html_client(anna).get("/einstellungen/profil/"))
    assert f'href="/personen/{anna.pk}/">So sehen andere Ihr Profil' in settings_page
    preview = text(html_client(anna).get(f"/personen/{anna.pk}/"))
    assert "Vorschau: So sehen angemeldete Mitglieder Ihr Profil." in preview
    assert "02302 555 0101" not in preview  # "Nur ich"
    assert anna.email in preview  # open to members
    # Exactly what another member sees.
    other = text(html_client(make_user("Ben Yilmaz")).get(f"/personen/{anna.pk}/"))
    assert "02302 555 0101" not in other
    assert anna.email in other


def test_leaving_a_group_asks_first_and_says_what_it_means(make_user: Any) -> None:
    owner = make_user("Karin Weiß")
    ben = make_user("Ben Yilmaz")
    group = do_create_group(actor=owner, name="Einkauf Ruhr", visibility="closed")
    do_join_group(actor=ben, group=group)
    do_approve_join_request(
        actor=owner, group=group, request_id=group.join_requests.get(user=ben).pk
    )
    page = text(html_client(ben).get(f"/gruppen/{group.slug}/"))
    confirm = page[page.index('<details class="leave-group">') :]
    confirm = confirm[: confirm.index("</details>")]
    assert "Gruppe verlassen …" in confirm
    assert "Wirklich „Einkauf Ruhr“ verlassen?" in confirm
    assert "müssen Sie erneut anfragen" in confirm
    assert "Ja, Gruppe verlassen" in confirm
    # The notification setting's "Speichern" is its own form, not next to leaving.
    assert "Speichern" not in confirm
    assert Membership.objects.filter(group=group, user=ben).exists()


def test_a_block_is_not_revealed_to_the_blocked_person(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    stranger = make_user("Clara Nowak")
    do_block_person(actor=anna, person=ben)
    as_ben = html_client(ben)
    profile = text(as_ben.get(f"/personen/{anna.pk}/"))
    assert f'action="/nachrichten/an/{anna.pk}/"' in profile  # the button stays
    answer = as_ben.post(f"/nachrichten/an/{anna.pk}/")
    assert answer.status_code == 403
    page = text(answer)
    assert "Direktnachricht nicht möglich" in page
    for revealing in ("blockiert", "Blockier", "Kein Zugriff"):
        assert revealing not in page.split('<main id="inhalt"')[1]
    # The same neutral page for anyone who cannot be written to (a deactivated person).
    stranger.is_active = False
    stranger.save()
    other = html_client(ben).post(f"/nachrichten/an/{stranger.pk}/")
    assert other.status_code in (403, 404)
    # Anna's page does not change for Ben: same as for someone she did not block.
    clara_view = text(html_client(make_user("Dora Berg")).get(f"/personen/{anna.pk}/"))
    assert ("Nachricht senden" in clara_view) == ("Nachricht senden" in profile)


def test_impressum_and_datenschutz_come_from_settings_and_are_linked(
    make_user: Any, settings: Any
) -> None:
    home = text(html_client().get("/"))
    assert 'href="/impressum/">Impressum</a>' in home
    assert 'href="/datenschutz/">Datenschutz</a>' in home
    empty = text(html_client().get("/impressum/"))
    assert "hat seine Angaben noch nicht hinterlegt" in empty
    settings.NETZN_OPERATOR_NAME = "Unternehmerverband Mittleres Ruhrgebiet e. V."
    settings.NETZN_OPERATOR_ADDRESS = "Kortumstraße 1|44787 Bochum"
    settings.NETZN_OPERATOR_REPRESENTATIVE = "Dr. Karin Weiß (Vorsitzende)"
    settings.NETZN_OPERATOR_EMAIL = "info@netzn.example.de"
    settings.NETZN_OPERATOR_REGISTER = "Vereinsregister Bochum VR 1234"
    settings.NETZN_PRIVACY_OFFICER = "Jonas Schäfer, datenschutz@netzn.example.de"
    impressum = text(html_client().get("/impressum/"))
    assert "Angaben gemäß § 5 DDG" in impressum
    assert "Unternehmerverband Mittleres Ruhrgebiet e. V.<br>Kortumstraße 1<br>44787 Bochum" in (
        impressum
    )
    assert "Vertreten durch:</strong> Dr. Karin Weiß (Vorsitzende)" in impressum
    assert "Vereinsregister Bochum VR 1234" in impressum
    datenschutz = text(html_client(make_user("Anna Becker")).get("/datenschutz/"))
    assert "Unternehmerverband Mittleres Ruhrgebiet e. V." in datenschutz
    assert "Jonas Schäfer, datenschutz@netzn.example.de" in datenschutz
    assert "Keine Werbe- oder Analyse-Cookies" in datenschutz


def test_german_that_fits(make_user: Any) -> None:
    karin = make_user("Dr. Karin Weiß", address_form="frau")
    malte = make_user("Malte Schröder", address_form="herr")
    kim = make_user("Kim Berg")
    group = do_create_group(actor=karin, name="Ausbildung Ruhr")
    for person in (malte, kim):
        do_join_group(actor=person, group=group)
    Membership.objects.filter(group=group).update(role="owner")
    page = text(html_client(malte).get(f"/gruppen/{group.slug}/"))
    assert "Inhaberin bzw. Inhaber" not in page
    assert '<span class="pill">Inhaberin</span>' in page
    assert '<span class="pill">Inhaber</span>' in page
    assert '<span class="pill">Inhaber:in</span>' in page  # no form given: neutral
    assert "Ihre Rolle in dieser Gruppe: <strong>Inhaber</strong>." in page

    closed = do_create_group(actor=karin, name="Vorstand", visibility="closed")
    outside = text(html_client(kim).get(f"/gruppen/{closed.slug}/"))
    assert "Nachricht an die Admins der Gruppe (freiwillig)" in outside
    assert "Diese Nachricht lesen nur die Admins der Gruppe" in outside
    assert "Wer in einer geschlossenen Gruppe Mitglied ist, sehen nur ihre Mitglieder." in outside

    company = do_create_company(actor=karin, fields={"name": "Handelskammer"})
    company_page = text(html_client(kim).get(f"/unternehmen/{company.slug}/"))
    assert ">Verwaltung<" not in company_page
    assert "Profil-Admin" in company_page

    direct, _ = do_get_or_create_direct_conversation(actor=kim, other_user_id=malte.pk)
    dm_page = text(html_client(kim).get(f"/nachrichten/{direct.pk}/"))
    assert "@ erwähnt jemanden" not in dm_page
    assert "@ erwähnt jemanden" in text(html_client(kim).get(f"/gruppen/{group.slug}/"))

    tokens = text(html_client(kim).get("/einstellungen/zugaenge/"))
    assert "<h2>Für Entwickler</h2>" in tokens
    assert tokens.index("Für Entwickler") < tokens.index("Authorization: Bearer")
    assert "Zugänge für Programme" not in tokens

    base = text(html_client(kim).get("/"))
    assert '<html lang="de">' in base
