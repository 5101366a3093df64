"""Message formatting (docs/formatting-moderation.md): the Markdown subset rendered
once on the server as `body_html`, the same over HTTP, in frames and in previews;
`@alle` for a group's moderators only."""

from __future__ import annotations

import random
import time
from html.parser import HTMLParser
from typing import Any

import pytest

from chat.actions import do_send_message, preview
from chat.formatting import MAYBE_MARKUP, formatted_html, plain_text, render_html
from chat.models import Message
from notifications.models import Notification
from realtime.errors import ClientError
from tests.chat.helpers import group_with
from tests.chat.test_api import Api

LINK_ATTRS = 'target="_blank" rel="nofollow noopener noreferrer"'


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("**fett** und *kursiv*", "<p><strong>fett</strong> und <em>kursiv</em></p>"),
        ("`x = 1`", "<p><code>x = 1</code></p>"),
        ("```\nzeile <b>\n```", "<pre><code>zeile &lt;b&gt;\n</code></pre>"),
        ("> Zitat", "<blockquote>\n<p>Zitat</p>\n</blockquote>"),
        ("- eins\n- zwei", "<ul>\n<li>eins</li>\n<li>zwei</li>\n</ul>"),
        ("3. drei\n4. vier", '<ol start="3">\n<li>drei</li>\n<li>vier</li>\n</ol>'),
        ("erste\nzweite", "<p>erste<br>\nzweite</p>"),
        # A line without ">" ends the quote; a line that is no list item and not
        # indented to the item's text ends the list (no lazy continuation).
        (
            "> Wer hat morgen einen Lkw frei?\nIch frage mal bei uns nach.",
            "<blockquote>\n<p>Wer hat morgen einen Lkw frei?</p>\n</blockquote>\n"
            "<p>Ich frage mal bei uns nach.</p>",
        ),
        (
            "> eins\n> zwei\ndanach",
            "<blockquote>\n<p>eins<br>\nzwei</p>\n</blockquote>\n<p>danach</p>",
        ),
        ("> - a\nb", "<blockquote>\n<ul>\n<li>a</li>\n</ul>\n</blockquote>\n<p>b</p>"),
        (
            "1. erstens\n2. zweitens\nLink: folgt",
            "<ol>\n<li>erstens</li>\n<li>zweitens</li>\n</ol>\n<p>Link: folgt</p>",
        ),
        ("- eins\n  weiter\nneu", "<ul>\n<li>eins<br>\nweiter</li>\n</ul>\n<p>neu</p>"),
        (
            "- a\n  - b\nc",
            "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>\n<p>c</p>",
        ),
        (
            "[netzn](https://netzn.de/a)",
            f'<p><a href="https://netzn.de/a" {LINK_ATTRS}>netzn</a></p>',
        ),
        (
            "siehe https://netzn.de/x.",
            f'<p>siehe <a href="https://netzn.de/x" {LINK_ATTRS}>https://netzn.de/x</a>.</p>',
        ),
        # No headings, no images, no raw HTML: they stay text.
        ("# Titel", "<p># Titel</p>"),
        ("<b>roh</b>", "<p>&lt;b&gt;roh&lt;/b&gt;</p>"),
    ],
)
def test_the_subset_renders(body: str, html: str) -> None:
    assert render_html(body) == html


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[klick](javascript:alert(1))",
        "[klick](JaVaScRiPt:alert(1))",
        "[klick](data:text/html;base64,PHNjcmlwdD4=)",
        "[klick](vbscript:msgbox)",
        "![bild](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        '[x](https://ok.de "title" onclick=alert(1))',
    ],
)
def test_hostile_input_is_text_and_never_a_script_or_script_link(body: str) -> None:
    found = Elements()
    found.feed(render_html(body))
    assert found.tags <= {"p", "a", "em", "strong", "code"}
    for tag, name, value in found.attributes:
        assert (tag, name) in {("a", "href"), ("a", "target"), ("a", "rel")}
        if name == "href":
            assert value.startswith(("http://", "https://", "mailto:")), value


class Elements(HTMLParser):
    """Every element and attribute of rendered HTML, as a browser would parse it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]


def test_only_allowed_link_schemes_survive() -> None:
    html = render_html("[a](ftp://x.de) [b](mailto:info@netzn.de) [c](http://x.de)")
    assert 'href="ftp' not in html
    assert f'<a href="mailto:info@netzn.de" {LINK_ATTRS}>b</a>' in html
    assert f'<a href="http://x.de" {LINK_ATTRS}>c</a>' in html


def test_plain_text_drops_the_markers_and_keeps_links_readable() -> None:
    body = (
        "**Wichtig:** Termin *morgen*\n\n- Punkt eins\n- Punkt zwei\n\n[Agenda](https://netzn.de/a)"
    )
    assert plain_text(body) == (
        "Wichtig: Termin morgen\n• Punkt eins\n• Punkt zwei\nAgenda (https://netzn.de/a)"
    )
    assert (
        preview(body)
        == "Wichtig: Termin morgen • Punkt eins • Punkt zwei Agenda (https://netzn.de/a)"
    )


def test_plain_text_keeps_the_line_after_a_quote_or_a_list_its_own() -> None:
    assert plain_text("> Wer hat einen Lkw frei?\nIch frage nach.") == (
        "Wer hat einen Lkw frei?\nIch frage nach."
    )
    assert plain_text("1. erstens\n2. zweitens\nLink: folgt") == (
        "1. erstens\n2. zweitens\nLink: folgt"
    )


def test_render_cost_per_message_is_small() -> None:
    """Not a timed assertion: prints the CPU time per render for docs/ (see there)."""
    body = (
        "**Hallo** *alle*, hier die Liste:\n\n- eins\n- zwei `code`\n\n> Zitat https://netzn.de/x"
    )
    start = time.process_time()
    for _ in range(500):
        render_html(body)
    per_message = (time.process_time() - start) / 500
    print(f"render_html: {per_message * 1e6:.0f} µs CPU per message")
    assert render_html(body).startswith("<p><strong>Hallo</strong>")


def rendered_is_plain(body: str) -> bool:
    """What `formatted_html` decides by rendering: the HTML is the escaped text."""
    plain = "<p>" + html_escape(body.strip()).replace("\n", "<br>\n") + "</p>"
    return render_html(body) in ("", plain)


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_a_body_without_markup_is_plain_without_rendering_and_nothing_plain_is_missed() -> None:
    """`formatted_html` skips the parser for bodies `MAYBE_MARKUP` finds nothing in:
    every such body must render as its plain text, and every body that does not
    render as plain text must be found. Random bodies over German text, digits,
    punctuation and every marker character, with a fixed seed."""
    alphabet = (
        list("abcxyzäöüßÄÖÜ EINS 0123456789 .,;!?'\"()%$€/+-=#@|^")
        + list("*_`~[]<>\\&:\n\t\xa0")
        + ["https://netzn.de", "mailto:a@b.de", "1. ", "- ", "> ", "    ", "**", "&amp;"]
    )
    rng = random.Random(20261202)
    skipped = 0
    for _ in range(4000):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if MAYBE_MARKUP.search(body) is None:
            skipped += 1
            assert rendered_is_plain(body), body
            assert formatted_html(body) == ""
        elif not rendered_is_plain(body):
            assert formatted_html(body) == render_html(body), body
    assert skipped > 200  # the plain case was exercised
    assert formatted_html("Zwei Lkw frei ab Bochum, 13,6 m (Plane).") == ""
    assert formatted_html("**Zwei** Lkw frei") == "<p><strong>Zwei</strong> Lkw frei</p>"
    assert formatted_html("1. Lkw") != ""


def test_history_and_http_send_carry_body_html(make_user: Any) -> None:
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    conversation = group_with(anna, ben)
    sent = Api(anna).post(
        f"/conversations/{conversation.pk}/messages",
        {"body": "**Angebot**\n- Stahl\n- <script>alert(1)</script>", "client_id": "f-1"},
    )
    assert sent.status_code == 201
    expected = (
        "<p><strong>Angebot</strong></p>\n<ul>\n<li>Stahl</li>\n"
        "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>\n</ul>"
    )
    assert sent.json()["body_html"] == expected
    history = Api(ben).get(f"/conversations/{conversation.pk}/messages").json()["results"]
    assert [(m["body"], m["body_html"]) for m in history] == [
        ("**Angebot**\n- Stahl\n- <script>alert(1)</script>", expected)
    ]


def test_plain_messages_carry_no_body_html(make_user: Any) -> None:
    """Most messages are plain: no second copy of the text on the wire."""
    anna = make_user("Anna Becker")
    conversation = group_with(anna)
    api = Api(anna)
    path = f"/conversations/{conversation.pk}/messages"
    plain = api.post(path, {"body": "Glück auf & <bis> morgen\nzweite Zeile", "client_id": "p"})
    assert "body_html" not in plain.json()
    two = api.post(path, {"body": "Absatz\n\nnoch einer", "client_id": "q"})
    assert two.json()["body_html"] == "<p>Absatz</p>\n<p>noch einer</p>"
    escaped = api.post(path, {"body": "\\*kein kursiv\\*", "client_id": "r"})
    assert escaped.json()["body_html"] == "<p>*kein kursiv*</p>"


def test_an_edit_renders_again(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    conversation = group_with(anna)
    message, _ = do_send_message(
        actor=anna, conversation_id=conversation.pk, body="alt", client_id="e-1"
    )
    edited = Api(anna).patch(
        f"/conversations/{conversation.pk}/messages/{message.pk}", {"body": "*neu*"}
    )
    assert edited.status_code == 200
    assert edited.json()["body_html"] == "<p><em>neu</em></p>"


def moderated_group(make_user: Any) -> tuple[Any, Any, Any, Any, Any]:
    admin, member, third, muted = (
        make_user("Olga Admin"),
        make_user("Mia Mitglied"),
        make_user("Tom Dritter"),
        make_user("Stefan Stumm"),
    )
    conversation = group_with(admin, member, third, muted)
    conversation.participants.filter(user=admin).update(can_moderate=True)
    conversation.participants.filter(user=muted).update(notification_level="muted")
    return conversation, admin, member, third, muted


def test_alle_from_a_moderator_notifies_every_member_who_did_not_mute(make_user: Any) -> None:
    conversation, admin, member, third, _muted = moderated_group(make_user)
    answer = Api(admin).post(
        f"/conversations/{conversation.pk}/messages",
        {"body": "@alle Treffen am **Freitag**", "client_id": "a-1"},
    )
    assert answer.status_code == 201
    notified = Notification.objects.filter(kind="mention").values_list("recipient_id", flat=True)
    assert sorted(notified) == sorted([member.pk, third.pk])
    data = Notification.objects.filter(recipient=member).get().data
    assert data["preview"] == "@alle Treffen am Freitag"


def test_alle_from_a_member_is_refused_and_nothing_is_stored(make_user: Any) -> None:
    conversation, _admin, member, _third, _muted = moderated_group(make_user)
    answer = Api(member).post(
        f"/conversations/{conversation.pk}/messages", {"body": "Hallo @Alle!", "client_id": "a-2"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
    assert answer.json()["error"]["detail"] == "Nur Admins der Gruppe dürfen @alle verwenden."
    assert not Message.objects.exists()
    assert not Notification.objects.exists()
    # Not a mention of everyone: a longer word, an e-mail address.
    for n, body in enumerate(["@allein gelassen", "schreib an team@alle.de"]):
        do_send_message(actor=member, conversation_id=conversation.pk, body=body, client_id=f"o{n}")
    assert Message.objects.count() == 2
    assert not Notification.objects.exists()


def test_a_member_cannot_edit_alle_into_a_message(make_user: Any) -> None:
    conversation, _admin, member, _third, _muted = moderated_group(make_user)
    message, _ = do_send_message(
        actor=member, conversation_id=conversation.pk, body="Hallo", client_id="x"
    )
    with pytest.raises(ClientError) as refused:
        from chat.actions import do_edit_message

        do_edit_message(actor=member, message_id=message.pk, body="Hallo @alle")
    assert refused.value.code == "bad_request"
    message.refresh_from_db()
    assert message.body == "Hallo"


def test_alle_in_a_direct_conversation_is_just_text(make_user: Any) -> None:
    from chat.actions import do_get_or_create_direct_conversation

    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    direct, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    _message, created = do_send_message(
        actor=anna, conversation_id=direct.pk, body="Grüße an @alle", client_id="d-1"
    )
    assert created
    assert not Notification.objects.filter(kind="mention").exists()


def test_the_migration_renders_stored_html_again(make_user: Any) -> None:
    """chat/migrations/0010: formatted rows stored with the lazy-continuation HTML are
    rendered again; plain rows ("") stay as they are."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("chat.migrations.0010_rerender_lazy_lines")
    anna = make_user("Anna Becker")
    conversation = group_with(anna)
    quoted, _ = do_send_message(
        actor=anna,
        conversation_id=conversation.pk,
        body="> Wer hat morgen einen Lkw frei?\nIch frage mal bei uns nach.",
        client_id="q",
    )
    plain, _ = do_send_message(
        actor=anna, conversation_id=conversation.pk, body="Guten Morgen", client_id="p"
    )
    old = (
        "<blockquote>\n<p>Wer hat morgen einen Lkw frei?<br>\n"
        "Ich frage mal bei uns nach.</p>\n</blockquote>"
    )
    Message.objects.filter(pk=quoted.pk).update(body_html=old)
    migration.rerender(apps, None)
    quoted.refresh_from_db()
    plain.refresh_from_db()
    assert quoted.body_html == formatted_html(quoted.body)
    assert quoted.body_html.endswith("<p>Ich frage mal bei uns nach.</p>")
    assert plain.body_html == ""
