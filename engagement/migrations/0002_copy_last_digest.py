"""The digest's bookkeeping moves from `accounts.User.last_digest_at` to
`engagement.PersonRhythm.digest_sent_at`: copy what was there, so nobody's next
digest looks back further (or less far) than before."""

from django.db import migrations


def copy_last_digest(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    PersonRhythm = apps.get_model("engagement", "PersonRhythm")
    rows = [
        PersonRhythm(user_id=user_id, digest_sent_at=sent_at)
        for user_id, sent_at in User.objects.exclude(last_digest_at=None).values_list(
            "pk", "last_digest_at"
        )
    ]
    PersonRhythm.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0001_people_questions_quiet_groups_jobs"),
        ("accounts", "0002_trigram"),
    ]

    operations = [migrations.RunPython(copy_last_digest, migrations.RunPython.noop)]
