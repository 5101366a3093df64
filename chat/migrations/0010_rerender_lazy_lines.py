"""Render the stored HTML of formatted messages again: a line after a quote or a list
used to be swallowed into it (CommonMark's lazy continuation), which
chat.formatting no longer does (docs/formatting-moderation.md). Only rows with
formatting (`body_html` not empty) can differ; plain ones ("") and unrendered ones
(null, rendered on reading) are left alone. Uses today's renderer on purpose: the
stored HTML is a cache of it."""

from __future__ import annotations

from typing import Any

from django.db import migrations

BATCH = 500


def rerender(apps: Any, schema_editor: Any) -> None:
    from chat.formatting import formatted_html

    message_model = apps.get_model("chat", "Message")
    rows = (
        message_model.objects.exclude(body_html__isnull=True)
        .exclude(body_html="")
        .only("id", "body", "body_html")
        .order_by("id")
    )
    changed = []
    for message in rows.iterator(chunk_size=BATCH):
        html = formatted_html(message.body)
        if html != message.body_html:
            message.body_html = html
            changed.append(message)
        if len(changed) >= BATCH:
            message_model.objects.bulk_update(changed, ["body_html"])
            changed = []
    if changed:
        message_model.objects.bulk_update(changed, ["body_html"])


class Migration(migrations.Migration):
    dependencies = [("chat", "0009_group_direct")]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop, elidable=True)]
