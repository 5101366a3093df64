"""Demo people and companies: fictional, German, for a local demo only.

`seed_accounts` goes through the same actions as the pages and the API. It is
idempotent: whatever exists already (matched by e-mail address or company slug) is
left as it is, so a second run changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accounts import actions
from accounts.models import Company, CompanyMember, User, Visibility
from accounts.registry import import_register

DEMO_PASSWORD = "Glueckauf-Ruhr-2026"  # noqa: S105 (local demo only, printed by make run)
DEMO_LOGINS = ["anna.becker@example.de", "malte.schroeder@example.de"]

# How the demo people want to be addressed (role labels follow it); Mia Böhm and Paul
# Lübke gave nothing, so the neutral forms show too.
ADDRESS_FORMS = {
    "anna.becker@example.de": "frau",
    "juergen.kowalski@example.de": "herr",
    "oezlem.yilmaz@example.de": "frau",
    "guenther.koehler@example.de": "herr",
    "lena.koehler@example.de": "frau",
    "malte.schroeder@example.de": "herr",
    "hanna.woelfel@example.de": "frau",
    "sophie.mueller@example.de": "frau",
    "bjoern.huebner@example.de": "herr",
    "karin.weiss@example.de": "frau",
    "tobias.brueckner@example.de": "herr",
    "frank.schaefer@example.de": "herr",
    "joerg.gruenewald@example.de": "herr",
}

# email, name, job title, city, phone, topics, bio, e-mail/phone open to members
PEOPLE: list[tuple[str, str, str, str, str, list[str], str, bool]] = [
    (
        "anna.becker@example.de",
        "Anna Becker",
        "Ausbildungsleiterin",
        "Witten",
        "02302 555 0101",
        ["Ausbildung", "Fachkräfte", "Stahlbau"],
        "Betreut 24 Auszubildende im Metallbau und sucht Kooperationen mit Schulen.",
        True,
    ),
    (
        "juergen.kowalski@example.de",
        "Jürgen Kowalski",
        "Geschäftsführer",
        "Herne",
        "02323 555 0202",
        ["Logistik", "Lkw", "Kontraktlogistik"],
        "Führt die Spedition in zweiter Generation; 40 Lkw zwischen Rhein und Ruhr.",
        True,
    ),
    (
        "oezlem.yilmaz@example.de",
        "Özlem Yılmaz",  # noqa: RUF001 (Turkish dotless i)
        "Disponentin",
        "Herne",
        "02323 555 0203",
        ["Logistik", "Disposition", "Gefahrgut"],
        "Plant Touren im Nah- und Fernverkehr, Ansprechpartnerin für Teilladungen.",
        False,
    ),
    (
        "guenther.koehler@example.de",
        "Günther Köhler",
        "Bäckermeister",
        "Hattingen",
        "02324 555 0301",
        ["Ausbildung", "Handwerk", "Regionale Lebensmittel"],
        "Backt seit 1987 in der Hattinger Altstadt und bildet jedes Jahr aus.",
        True,
    ),
    (
        "lena.koehler@example.de",
        "Lena Köhler",
        "Filialleiterin und Ausbilderin",
        "Hattingen",
        "",
        ["Ausbildung", "Verkauf"],
        "Verantwortet die Ausbildung der Fachverkäuferinnen und Fachverkäufer.",
        False,
    ),
    (
        "malte.schroeder@example.de",
        "Malte Schröder",
        "Geschäftsführer",
        "Bochum",
        "0234 555 0401",
        ["IT-Sicherheit", "Digitalisierung", "Cloud"],
        "Berät Mittelständler zu sicherer IT, Netzwerken und Cloud-Umzügen.",
        True,
    ),
    (
        "hanna.woelfel@example.de",
        "Hanna Wölfel",
        "Personalreferentin",
        "Bochum",
        "",
        ["Ausbildung", "Personal", "Fachinformatik"],
        "Sucht Auszubildende zur Fachinformatikerin und zum Fachinformatiker.",
        False,
    ),
    (
        "sophie.mueller@example.de",
        "Sophie Müller",
        "Strategische Einkäuferin",
        "Witten",
        "02302 555 0102",
        ["Einkauf", "Stahl", "Lieferketten"],
        "Kauft Stahl, Schrauben und Dienstleistungen für Stahlbauprojekte ein.",
        True,
    ),
    (
        "bjoern.huebner@example.de",
        "Björn Hübner",
        "Projektleiter Hallenbau",
        "Witten",
        "",
        ["Stahlbau", "Projektmanagement"],
        "Leitet Hallen- und Brückenbauprojekte im Ruhrgebiet.",
        False,
    ),
    (
        "karin.weiss@example.de",
        "Dr. Karin Weiß",
        "Referentin Aus- und Weiterbildung",
        "Bochum",
        "0234 555 0501",
        ["Ausbildung", "Weiterbildung", "Fördermittel"],
        "Berät Betriebe zu Ausbildungsverträgen, Prüfungen und Förderprogrammen.",
        True,
    ),
    (
        "tobias.brueckner@example.de",
        "Tobias Brückner",
        "Berater Existenzgründung",
        "Bochum",
        "",
        ["Gründung", "Nachfolge", "Fördermittel"],
        "Begleitet Gründungen und Betriebsübergaben in der Region.",
        False,
    ),
    (
        "frank.schaefer@example.de",
        "Frank Schäfer",
        "Elektromeister",
        "Herne",
        "02323 555 0601",
        ["Photovoltaik", "Ausbildung", "Gebäudetechnik"],
        "Plant und installiert Solaranlagen für Gewerbedächer.",
        True,
    ),
    (
        "joerg.gruenewald@example.de",
        "Jörg Grünewald",
        "Inhaber",
        "Witten",
        "",
        ["Garten- und Landschaftsbau", "Außenanlagen"],
        "Gestaltet Firmengelände, Dachbegrünungen und Außenanlagen.",
        False,
    ),
    (
        "mia.boehm@example.de",
        "Mia Böhm",
        "Geschäftsführerin",
        "Hattingen",
        "02324 555 0801",
        ["Druck", "Marketing", "Verpackung"],
        "Führt die Druckerei in dritter Generation, Schwerpunkt nachhaltige Verpackungen.",
        True,
    ),
    (
        "paul.luebke@example.de",
        "Paul Lübke",
        "Lagerleiter",
        "Herne",
        "",
        ["Logistik", "Lager", "Einkauf"],
        "Verantwortet Wareneingang und Lager am Herner Kanalhafen.",
        False,
    ),
]

# slug, name, industry, city, address, website, description, admin e-mail
COMPANIES: list[tuple[str, str, str, str, str, str, str, str]] = [
    (
        "spedition-kowalski",
        "Spedition Kowalski GmbH & Co. KG",
        "Spedition und Logistik",
        "Herne",
        "Am Kanalhafen 12, 44623 Herne",
        "https://spedition-kowalski.example.de",
        "Nah- und Fernverkehr mit 40 eigenen Lkw, Kontraktlogistik und 12.000 m² Lager "
        "am Rhein-Herne-Kanal. Wir bilden Berufskraftfahrer und Kaufleute für Spedition aus.",
        "juergen.kowalski@example.de",
    ),
    (
        "stahlbau-ruether",
        "Stahlbau Rüther GmbH",
        "Stahlbau",
        "Witten",
        "Ruhrdeich 40, 58452 Witten",
        "https://stahlbau-ruether.example.de",
        "Hallen, Brücken und Sonderkonstruktionen aus Stahl. Ausbildungsbetrieb für "
        "Metallbauer, Konstruktionsmechaniker und technische Produktdesigner.",
        "anna.becker@example.de",
    ),
    (
        "baeckerei-koehler",
        "Bäckerei Köhler",
        "Lebensmittelhandwerk",
        "Hattingen",
        "Untermarkt 3, 45525 Hattingen",
        "",
        "Handwerksbäckerei mit vier Filialen. Jedes Jahr Ausbildungsplätze zur Bäckerin, "
        "zum Bäcker und zur Fachverkäuferin im Lebensmittelhandwerk.",
        "guenther.koehler@example.de",
    ),
    (
        "ruhrcode",
        "Ruhrcode IT-Dienstleistungen GmbH",
        "IT-Dienstleistungen",
        "Bochum",
        "Universitätsstraße 90, 44789 Bochum",
        "https://ruhrcode.example.de",
        "IT-Betreuung, Netzwerke, IT-Sicherheit und Cloud für den Mittelstand. "
        "Ausbildung zur Fachinformatikerin und zum Fachinformatiker.",
        "malte.schroeder@example.de",
    ),
    (
        "handelskammer-mittleres-ruhrgebiet",
        "Handelskammer Mittleres Ruhrgebiet",
        "Kammer und Wirtschaftsverband",
        "Bochum",
        "Ostring 30, 44787 Bochum",
        "https://handelskammer-ruhr.example.de",
        "Die (fiktive) Kammer der Region: Ausbildungsberatung, Prüfungen, Gründung und "
        "Nachfolge, Veranstaltungen für Mitgliedsbetriebe.",
        "karin.weiss@example.de",
    ),
    (
        "elektro-schaefer",
        "Elektro Schäfer GmbH",
        "Elektrotechnik",
        "Herne",
        "Bahnhofstraße 55, 44623 Herne",
        "",
        "Elektroinstallation, Photovoltaik und Ladeinfrastruktur für Gewerbe und Industrie.",
        "frank.schaefer@example.de",
    ),
    (
        "gruenwerk",
        "Grünwerk Garten- und Landschaftsbau",
        "Garten- und Landschaftsbau",
        "Witten",
        "Herbeder Straße 7, 58455 Witten",
        "",
        "Außenanlagen, Dachbegrünung und Pflege von Firmengeländen.",
        "joerg.gruenewald@example.de",
    ),
    (
        "druckerei-boehm",
        "Druckerei Böhm & Söhne",
        "Druck und Medien",
        "Hattingen",
        "Bredenscheider Straße 21, 45525 Hattingen",
        "https://druckerei-boehm.example.de",
        "Offset- und Digitaldruck, Verpackungen aus Recyclingkarton, Messematerial.",
        "mia.boehm@example.de",
    ),
]

# company slug, e-mail, responsibility (the admin's responsibility included)
CONTACTS: list[tuple[str, str, str]] = [
    ("spedition-kowalski", "juergen.kowalski@example.de", "Geschäftsführung"),
    ("spedition-kowalski", "oezlem.yilmaz@example.de", "Logistik"),
    ("stahlbau-ruether", "anna.becker@example.de", "Ausbildung"),
    ("stahlbau-ruether", "sophie.mueller@example.de", "Einkauf"),
    ("stahlbau-ruether", "bjoern.huebner@example.de", "Projekte"),
    ("baeckerei-koehler", "guenther.koehler@example.de", "Einkauf"),
    ("baeckerei-koehler", "lena.koehler@example.de", "Ausbildung"),
    ("ruhrcode", "malte.schroeder@example.de", "Vertrieb"),
    ("ruhrcode", "hanna.woelfel@example.de", "Ausbildung"),
    ("handelskammer-mittleres-ruhrgebiet", "karin.weiss@example.de", "Ausbildung"),
    ("handelskammer-mittleres-ruhrgebiet", "tobias.brueckner@example.de", "Gründung"),
    ("elektro-schaefer", "frank.schaefer@example.de", "Ausbildung"),
    ("gruenwerk", "joerg.gruenewald@example.de", "Geschäftsführung"),
    ("druckerei-boehm", "mia.boehm@example.de", "Vertrieb"),
]

# Claims that stay open, so an admin sees one to confirm.
PENDING: list[tuple[str, str, str]] = [
    ("spedition-kowalski", "paul.luebke@example.de", "Lager und Einkauf"),
]


def _person(entry: tuple[str, str, str, str, str, list[str], str, bool]) -> User:
    email, name, job_title, city, phone, topics, bio, open_to_members = entry
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing
    user = actions.do_signup_person(
        email=email, password=DEMO_PASSWORD, display_name=name, confirmed=True
    )
    visibility = Visibility.MEMBERS if open_to_members else Visibility.PRIVATE
    changes: dict[str, Any] = {
        "job_title": job_title,
        "city": city,
        "phone": phone,
        "topics": topics,
        "bio": bio,
        "email_visibility": visibility,
        "phone_visibility": visibility,
        "address_form": ADDRESS_FORMS.get(email, ""),
    }
    return actions.do_update_profile(actor=user, changes=changes)


# A small sample of the chamber's member register: invented firms, invented numbers.
DEMO_REGISTER = Path(__file__).with_name("demo_register.csv")


def seed_accounts() -> list[tuple[str, str]]:
    """Create the demo people and companies once; return the demo logins."""
    people = {entry[0]: _person(entry) for entry in PEOPLE}
    companies: dict[str, Company] = {}
    for slug, name, industry, city, address, website, description, admin in COMPANIES:
        company = Company.objects.filter(slug=slug).first()
        if company is None:
            fields = {
                "name": name,
                "industry": industry,
                "city": city,
                "address": address,
                "website": website,
                "description": description,
            }
            company = actions.do_create_company(actor=people[admin], fields=fields, slug=slug)
        companies[slug] = company
    admins = {entry[0]: people[entry[7]] for entry in COMPANIES}
    for slug, email, responsibility in CONTACTS + PENDING:
        company, person = companies[slug], people[email]
        membership = CompanyMember.objects.filter(company=company, user=person).first()
        if membership is None:
            actions.do_claim_company(actor=person, company=company, responsibility=responsibility)
            if (slug, email, responsibility) in CONTACTS:
                actions.do_confirm_company_member(
                    actor=admins[slug], company=company, user_id=person.pk
                )
        elif not membership.responsibility:
            actions.do_set_company_member(
                actor=person, company=company, user_id=person.pk, responsibility=responsibility
            )
    import_register(DEMO_REGISTER.read_text(encoding="utf-8"))
    return [(email, DEMO_PASSWORD) for email in DEMO_LOGINS]
