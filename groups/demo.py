"""Demo groups: the four starter groups of the network, fictional members.

`seed_groups` goes through the same actions as the pages and the API. It runs after
`seed_accounts` and looks people up by e-mail; whoever is missing is left out, and a
group whose founder is missing is not created. A group that exists already (by name)
is left as it is, so a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import User
from chat.actions import do_send_message
from groups.actions import (
    do_change_member_role,
    do_create_group,
    do_join_group,
    do_update_group,
)
from groups.models import Group


@dataclass(frozen=True)
class DemoGroup:
    name: str
    description: str
    visibility: str
    topics: list[str]
    city: str
    owner: str
    admins: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    # (e-mail, message): join requests left pending for the admins to decide.
    requests: list[tuple[str, str]] = field(default_factory=list)
    # (e-mail, text): the first messages of the group's discussion, in order.
    messages: list[tuple[str, str]] = field(default_factory=list)


DEMO_GROUPS = [
    DemoGroup(
        name="Ausbildung",
        description=(
            "Ausbilderinnen und Ausbilder aus Handwerk, Industrie und Handel tauschen sich "
            "aus: Azubi-Gewinnung, Praktika, Prüfungsvorbereitung, Verbundausbildung."
        ),
        visibility=Group.Visibility.OPEN,
        topics=["Ausbildung", "Fachkräfte", "Berufsorientierung"],
        city="Bochum, Herne, Witten, Hattingen",
        owner="karin.weiss@example.de",
        admins=["anna.becker@example.de"],
        members=[
            "guenther.koehler@example.de",
            "lena.koehler@example.de",
            "hanna.woelfel@example.de",
            "frank.schaefer@example.de",
        ],
        messages=[
            (
                "karin.weiss@example.de",
                "Willkommen in der Gruppe! Die Prüfungstermine für die Sommerprüfung "
                "stehen fest, Anmeldeschluss ist der 1. Februar.",
            ),
            (
                "anna.becker@example.de",
                "Danke! Wir bieten im März wieder zwei Schnupperwochen im Metallbau an. "
                "Hat jemand Kontakte zu Realschulen in Witten?",
            ),
            (
                "guenther.koehler@example.de",
                "Zur Gesamtschule Hattingen ja, ich stelle gern den Kontakt her.",
            ),
        ],
    ),
    DemoGroup(
        name="Unternehmensnachfolge",
        description=(
            "Vertraulicher Kreis für Inhaberinnen und Inhaber, die ihre Nachfolge planen, "
            "und für alle, die einen Betrieb übernehmen möchten."
        ),
        visibility=Group.Visibility.CLOSED,
        topics=["Nachfolge", "Unternehmensübergabe", "Finanzierung"],
        city="Mittleres Ruhrgebiet",
        owner="tobias.brueckner@example.de",
        admins=["anna.becker@example.de"],
        members=["juergen.kowalski@example.de", "mia.boehm@example.de"],
        messages=[
            (
                "tobias.brueckner@example.de",
                "Nächster Termin: Sprechtag Unternehmensnachfolge am 12. März, "
                "mit einer Steuerberaterin und einem Notar.",
            ),
            (
                "mia.boehm@example.de",
                "Ich wäre dabei. Wir überlegen, die Druckerei in drei Jahren an zwei "
                "Mitarbeiter zu übergeben.",
            ),
        ],
        requests=[
            (
                "guenther.koehler@example.de",
                "Ich möchte die Bäckerei in den nächsten fünf Jahren übergeben "
                "und suche Erfahrungen aus der Praxis.",
            )
        ],
    ),
    DemoGroup(
        name="Import/Export",
        description=(
            "Zoll, Incoterms, Lieferketten und Märkte: Wer importiert oder exportiert, "
            "findet hier Ansprechpersonen aus der Region."
        ),
        visibility=Group.Visibility.OPEN,
        topics=["Import", "Export", "Zoll", "Logistik"],
        city="Herne",
        owner="juergen.kowalski@example.de",
        admins=["oezlem.yilmaz@example.de"],
        members=[
            "sophie.mueller@example.de",
            "paul.luebke@example.de",
            "malte.schroeder@example.de",
        ],
        messages=[
            (
                "juergen.kowalski@example.de",
                "Hat jemand Erfahrung mit dem neuen Zollportal? Unsere Ausfuhranmeldungen "
                "hängen seit gestern.",
            ),
            (
                "oezlem.yilmaz@example.de",
                "Bei uns lief es heute Morgen wieder. Es lag am Zertifikat, "
                "ein Neustart des Browsers hat geholfen.",
            ),
            (
                "sophie.mueller@example.de",
                "Gute Nachricht: Die Lieferzeiten für Stahlträger aus den Niederlanden "
                "sind wieder bei zwei Wochen.",
            ),
        ],
    ),
    DemoGroup(
        name="Innovationskreis Mobilität",
        description=(
            "Betriebe, die ihre Fuhrparks, Pendelwege und Lieferverkehre umstellen: "
            "E-Mobilität, Ladeinfrastruktur, Lastenräder, Förderprogramme."
        ),
        visibility=Group.Visibility.CLOSED,
        topics=["Mobilität", "E-Mobilität", "Nachhaltigkeit"],
        city="Bochum",
        owner="joerg.gruenewald@example.de",
        admins=["frank.schaefer@example.de"],
        members=["juergen.kowalski@example.de", "bjoern.huebner@example.de"],
        messages=[
            (
                "joerg.gruenewald@example.de",
                "Die Stadt Bochum fördert Lastenräder für Betriebe wieder, Anträge bis Ende April.",
            ),
            (
                "frank.schaefer@example.de",
                "Wir haben sechs Ladepunkte auf dem Hof installiert. Wer sich das "
                "ansehen möchte, ist herzlich eingeladen.",
            ),
        ],
        requests=[
            (
                "malte.schroeder@example.de",
                "Wir stellen unseren Service-Fuhrpark auf E-Autos um und würden gern "
                "von euren Erfahrungen mit Ladepunkten lernen.",
            )
        ],
    ),
]


def _people(emails: list[str]) -> dict[str, User]:
    return {user.email: user for user in User.objects.filter(email__in=emails, is_active=True)}


def seed_groups() -> None:
    """Create the starter groups once, with members, first messages and pending
    requests."""
    emails = {e for g in DEMO_GROUPS for e in [g.owner, *g.admins, *g.members]}
    emails |= {email for g in DEMO_GROUPS for email, _ in g.requests}
    people = _people(sorted(emails))
    for demo in DEMO_GROUPS:
        owner = people.get(demo.owner)
        if owner is None or Group.objects.filter(name__iexact=demo.name).exists():
            continue
        # Founded open so the founders' colleagues join directly; closed afterwards.
        group = do_create_group(
            actor=owner,
            name=demo.name,
            description=demo.description,
            visibility=Group.Visibility.OPEN,
            topics=demo.topics,
            city=demo.city,
        )
        for email in [*demo.admins, *demo.members]:
            if email in people:
                do_join_group(actor=people[email], group=group)
        for email in demo.admins:
            if email in people:
                do_change_member_role(
                    actor=owner, group=group, user_id=people[email].pk, role="admin"
                )
        for number, (email, text) in enumerate(demo.messages, start=1):
            if email in people:
                do_send_message(
                    actor=people[email],
                    conversation_id=group.conversation_id,
                    body=text,
                    client_id=f"demo-{group.slug}-{number}",
                )
        if demo.visibility != Group.Visibility.OPEN:
            group = do_update_group(actor=owner, group=group, visibility=demo.visibility)
        for email, message in demo.requests:
            if email in people:
                do_join_group(actor=people[email], group=group, message=message)
