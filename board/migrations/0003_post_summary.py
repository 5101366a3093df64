from typing import Any

from django.db import migrations, models

from board import presentation


def store_summaries(apps: Any, schema_editor: Any) -> None:
    Post = apps.get_model("board", "Post")
    batch = []
    for post in Post.objects.only("id", "category", "fields").iterator(chunk_size=2000):
        post.summary = presentation.summary(post.category, post.fields)
        batch.append(post)
        if len(batch) == 2000:
            Post.objects.bulk_update(batch, ["summary"])
            batch = []
    Post.objects.bulk_update(batch, ["summary"])


class Migration(migrations.Migration):
    dependencies = [
        ("board", "0002_search_match_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="summary",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(store_summaries, migrations.RunPython.noop),
    ]
