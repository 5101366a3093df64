"""A newcomer signs up, picks topics, joins a suggested group and asks; nobody answers
in time, so the expert gets the `unanswered` notification live, and answers.

Two browser contexts against a real server process (daphne on the test database);
the routing job runs in the test process with a chosen clock (no waiting four hours).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Company, CompanyMember
from chat.models import Message
from engagement.jobs import route_unanswered_questions
from groups.actions import do_create_group, do_join_group
from tests.browser.test_live import assert_clean, bodies, wait_until
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_newcomer_asks_and_the_expert_is_asked_and_answers(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    owner = make_user("Olaf Owner")
    expert_user = make_user("Erika Expertin", job_title="Ausbildungsleiterin")
    company = Company.objects.create(name="Stahlbau Witten", slug="stahlbau-witten", city="Witten")
    CompanyMember.objects.create(
        company=company, user=expert_user, responsibility="Ausbildung", confirmed=True
    )
    group = do_create_group(
        actor=owner,
        name="Ausbildung im EN-Kreis",
        description="Betriebe, die ausbilden.",
        visibility="open",
        topics=["Ausbildung"],
        city="Witten",
    )
    do_join_group(actor=expert_user, group=group)
    expert = person_factory(expert_user, live_server_process)
    expert.login()

    # The newcomer: sign-up, then topics and city, then a first group.
    newcomer = person_factory(None, live_server_process)
    newcomer.goto("/registrieren/")
    form = newcomer.page.locator("main form")
    form.get_by_label("Name").fill("Nina Neu")
    form.get_by_label("E-Mail-Adresse").fill(f"nina-{uuid.uuid4().hex[:6]}@example.de")
    form.get_by_label("Passwort").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(newcomer.page).to_have_url(re.compile(r"/willkommen/$"))
    expect(
        newcomer.page.get_by_role("heading", name="Willkommen bei netzn, Nina Neu!")
    ).to_be_visible()
    newcomer.page.get_by_label("Ausbildung", exact=True).check()
    newcomer.page.get_by_label("Ihr Ort").fill("Witten")
    newcomer.page.get_by_role("button", name="Weiter: erste Gruppe wählen").click()
    expect(newcomer.page).to_have_url(re.compile(r"/willkommen/gruppe/$"))
    suggestion = newcomer.page.locator("#suggested-groups li").first
    expect(suggestion).to_contain_text("Ausbildung im EN-Kreis")
    expect(suggestion).to_contain_text("Thema Ausbildung, Witten")
    suggestion.get_by_role("button", name="Beitreten").click()
    expect(newcomer.page).to_have_url(re.compile(rf"/gruppen/{group.slug}/$"))
    expect(newcomer.page.locator(".flash")).to_contain_text("Stellen Sie gleich Ihre erste Frage")

    panel = newcomer.open_panel(f"/gruppen/{group.slug}/")
    question = "Wer bildet 2027 noch Mechatroniker aus?"
    newcomer.send(question)
    expect(panel.locator(".chat-body", has_text=question)).to_be_visible()
    wait_until(lambda: Message.objects.filter(body=question).exists())
    asked = Message.objects.get(body=question)

    # Four hours without an answer: the job brings it to the expert (live) and the owner.
    route_unanswered_questions(asked.created_at + timedelta(minutes=241))
    toast = expert.page.locator(".toast", has_text="Können Sie helfen?")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(f"Nina Neu fragt in „Ausbildung im EN-Kreis“: {question}")
    expect(expert.page.locator("#notification-badge .badge-count")).to_have_text("1")

    expert.goto("/benachrichtigungen/")
    entry = expert.page.locator("#notification-list li").first
    expect(entry).to_contain_text("Können Sie helfen? Nina Neu wartet in „Ausbildung im EN-Kreis“")
    expect(entry).to_contain_text(
        "Sie wurden gefragt, weil Sie bei Stahlbau Witten für „Ausbildung“ zuständig sind."
    )
    expert.goto("/")
    expect(expert.page.locator("#help-questions")).to_contain_text(question)
    expert.page.locator("#help-questions a").first.click()
    expect(expert.page).to_have_url(re.compile(rf"/gruppen/{group.slug}/#nachricht-"))
    expect(expert.page.locator("#open-questions")).to_contain_text(question)
    # The question is marked in the discussion itself.
    marked = expert.page.locator(f'#chat-panel .chat-message[data-id="{asked.pk}"]')
    expect(marked.locator(".open-question-pill")).to_have_text("Offene Frage")
    expert.open_panel(f"/gruppen/{group.slug}/")
    answer = "Wir, die Stahlbau Witten: melden Sie sich gern bei mir."
    expert.send(answer)

    # The newcomer sees the answer live; the question is no longer open.
    expect(panel.locator(".chat-body", has_text=answer)).to_be_visible()
    assert bodies(newcomer)[-1] == answer
    newcomer.goto(f"/gruppen/{group.slug}/")
    expect(newcomer.page.locator("#open-questions")).to_have_count(0)
    assert_clean(newcomer, expert)
