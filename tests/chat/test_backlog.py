"""The catch-up of a `subscribe` (chat/backlog.py): built from rows, the backlog's
frames are the frames `message_frame` builds from model instances, for every kind of
message; access is decided as `access_conversation` decides; the queries do not grow
with the backlog."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.access import access_conversation, messages_page
from chat.actions import do_delete_message, do_edit_message, do_send_message, do_set_reaction
from chat.backlog import subscription_backlog
from chat.events import message_frame
from chat.models import Attachment, Message
from chat.reactions import ALLOWED_EMOJI, attach_reactions
from realtime.errors import ClientError
from tests.chat.helpers import group_with

pytestmark = pytest.mark.django_db


def send(user: Any, conversation: Any, body: str, **extra: Any) -> Message:
    message, _ = do_send_message(
        actor=user, conversation_id=conversation.pk, body=body, client_id=body[:60], **extra
    )
    return message


def frames_from_instances(viewer: Any, conversation: Any, after: int) -> list[dict[str, Any]]:
    """What the catch-up sent before it was built from rows."""
    conversation.refresh_from_db()
    page = messages_page(conversation, after=after, before=conversation.last_seq + 1, limit=500)
    attach_reactions(page.messages, viewer)
    return [dict(message_frame(message)) for message in page.messages]


def test_backlog_frames_are_the_frames_of_the_model_instances(make_user: Any) -> None:
    anna = make_user("Anna Becker", company_name="Stahlbau Witten", company_verified=True)
    ben = make_user("Ben Öztürk", company_name="Druckerei Herne")
    gone = make_user("Gerd Weg")
    conversation = group_with(anna, ben, gone)
    plain = send(anna, conversation, "Guten Morgen")
    formatted = send(ben, conversation, "Das ist **wichtig**", reply_to=plain.pk)
    by_gone = send(gone, conversation, "Ich bin bald weg")
    reply_to_gone = send(anna, conversation, "Schade", reply_to=by_gone.pk)
    edited = send(ben, conversation, "Erster Entwurf")
    do_edit_message(actor=ben, message_id=edited.pk, body="Zweiter Entwurf mit _Betonung_")
    deleted = send(ben, conversation, "Versehen")
    reply_to_deleted = send(anna, conversation, "Worauf?", reply_to=deleted.pk)
    do_delete_message(actor=ben, message_id=deleted.pk)
    hidden = send(ben, conversation, "Wird verborgen")
    Message.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now(), hidden_by=anna)
    old_row = send(anna, conversation, "Vor der Formatierung *gespeichert*")
    Message.objects.filter(pk=old_row.pk).update(body_html=None)
    with_post = send(anna, conversation, "Angebot", post={"id": 7, "title": "Stapler"})
    with_files = send(ben, conversation, "Zwei Dateien")
    for position, (name, thumbnail) in enumerate([("plan.pdf", ""), ("foto.jpg", "t/1.jpg")]):
        Attachment.objects.create(
            conversation=conversation,
            uploader=ben,
            message=with_files,
            position=1 - position,
            name=name,
            size=1000 + position,
            content_type="image/jpeg" if thumbnail else "application/pdf",
            file=f"f/{name}",
            thumbnail=thumbnail,
        )
    for emoji, people in [(ALLOWED_EMOJI[0], [anna, ben]), (ALLOWED_EMOJI[1], [ben])]:
        for person in people:
            do_set_reaction(actor=person, message_id=plain.pk, emoji=emoji, on=True)
    do_set_reaction(actor=anna, message_id=hidden.pk, emoji=ALLOWED_EMOJI[2], on=True)
    type(anna).objects.filter(pk=anna.pk).update(avatar="avatars/1-0a1b2c3d4e5f6a7b.jpg")
    Message.objects.filter(author=gone).update(author=None)
    anna.refresh_from_db()

    for viewer in (anna, ben):
        expected = frames_from_instances(viewer, conversation, after=0)
        backlog = subscription_backlog(viewer, conversation.pk, 0)
        assert backlog.frames == expected
        assert [list(frame) for frame in backlog.frames] == [list(frame) for frame in expected]
        assert backlog.last_seq == conversation.last_seq
        assert backlog.truncated is False
        assert backlog.can_write is True
    first = backlog.frames[0]
    assert first["author"]["avatar_url"].startswith(f"/personen/{anna.pk}/foto/")
    assert {r["emoji"]: r["count"] for r in first["reactions"]} == {
        ALLOWED_EMOJI[0]: 2,
        ALLOWED_EMOJI[1]: 1,
    }
    seqs = [frame["seq"] for frame in backlog.frames]
    assert seqs == sorted(seqs)
    files = next(frame for frame in backlog.frames if frame["id"] == with_files.pk)
    assert [a["name"] for a in files["attachments"]] == ["foto.jpg", "plan.pdf"]
    assert formatted.pk and reply_to_gone.pk and reply_to_deleted.pk and with_post.pk


@override_settings(NETZN_BACKLOG_LIMIT=3)
def test_the_backlog_is_the_newest_after_the_mark_and_says_when_truncated(make_user):
    anna = make_user()
    conversation = group_with(anna)
    for number in range(1, 8):
        send(anna, conversation, f"Nachricht {number}")
    backlog = subscription_backlog(anna, conversation.pk, 2)
    assert [frame["seq"] for frame in backlog.frames] == [5, 6, 7]
    assert backlog.truncated is True
    backlog = subscription_backlog(anna, conversation.pk, 4)
    assert [frame["seq"] for frame in backlog.frames] == [5, 6, 7]
    assert backlog.truncated is False
    for after in (None, 7, 9):
        backlog = subscription_backlog(anna, conversation.pk, after)
        assert (backlog.frames, backlog.last_seq, backlog.truncated) == ([], 7, False)


def test_a_catch_up_asks_for_reactions_and_attachments_only_when_there_are_any(make_user):
    anna = make_user()
    ben = make_user()
    conversation = group_with(anna, ben)

    def queries_of_a_catch_up(batch: int, *, react: bool, attach: bool) -> int:
        mark = conversation.last_seq
        for number in range(batch):
            message = send(ben, conversation, f"Stapel {batch} Nummer {number} {react} {attach}")
            if react:
                do_set_reaction(actor=anna, message_id=message.pk, emoji=ALLOWED_EMOJI[0], on=True)
            if attach:
                Attachment.objects.create(
                    conversation=conversation,
                    uploader=ben,
                    message=message,
                    position=0,
                    name="plan.pdf",
                    size=1000,
                    content_type="application/pdf",
                    file="f/plan.pdf",
                )
        conversation.refresh_from_db()
        with CaptureQueriesContext(connection) as queries:
            backlog = subscription_backlog(anna, conversation.pk, mark)
        assert len(backlog.frames) == batch
        assert all(bool(frame["reactions"]) is react for frame in backlog.frames)
        assert all(bool(frame["attachments"]) is attach for frame in backlog.frames)
        return len(queries)

    # Access, then the messages; reactions and attachments each one more, however
    # long the backlog.
    assert [queries_of_a_catch_up(batch, react=False, attach=False) for batch in (2, 40)] == [2, 2]
    assert [queries_of_a_catch_up(batch, react=True, attach=False) for batch in (2, 40)] == [3, 3]
    assert [queries_of_a_catch_up(batch, react=False, attach=True) for batch in (2, 40)] == [3, 3]
    assert [queries_of_a_catch_up(batch, react=True, attach=True) for batch in (2, 40)] == [4, 4]
    with CaptureQueriesContext(connection) as queries:
        subscription_backlog(anna, conversation.pk, None)
    assert len(queries) == 1


def test_access_is_decided_as_for_every_other_read(make_user):
    member = make_user()
    outsider = make_user()
    inactive = make_user(is_active=False)
    closed = group_with(member)
    open_group = group_with(member, title="Offen", open_group=True)
    for user, conversation_id in [
        (outsider, closed.pk),
        (inactive, open_group.pk),
        (member, 2**40),
        (member, 0),
        (member, True),
    ]:
        with pytest.raises(ClientError) as refused:
            subscription_backlog(user, conversation_id, None)
        assert refused.value.code == "forbidden"
        with pytest.raises(ClientError) as also_refused:
            access_conversation(user, conversation_id)
        assert also_refused.value.code == "forbidden"
    assert subscription_backlog(member, closed.pk, None).can_write is True
    reader = subscription_backlog(outsider, open_group.pk, None)
    assert reader.can_write is False
    assert access_conversation(outsider, open_group.pk).can_write is False
