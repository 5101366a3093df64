"""seed_demo adds the board's demo posts, matched, and a second run changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from board.models import Match, Post
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_realistic_posts_once() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    titles = set(Post.objects.values_list("title", flat=True))
    assert {
        "Rückladung frei: Bochum → München",
        "Teilladung Herne → Hamburg",
        "Ausbildung zur Fachkraft für Lagerlogistik in Herne",
        "Industriekaufleute in Witten gesucht",
    } <= titles
    mobility = Post.objects.filter(group__name="Innovationskreis Mobilität")
    assert mobility.count() == 3
    assert all(post.message_id for post in Post.objects.all())
    load = Post.objects.get(title="Stahlträger nach München gesucht")
    assert Match.objects.filter(
        post=load, other__title="Rückladung frei: Bochum → München"
    ).exists()
    assert Notification.objects.filter(
        kind="match", recipient__email="juergen.kowalski@example.de"
    ).exists()
    count = Post.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Post.objects.count() == count
