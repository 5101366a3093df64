"""An index for the directory's "Zuständig für" filter (`responsibility__icontains`).

Django's `icontains` on PostgreSQL is `UPPER(responsibility::text) LIKE UPPER(%s)`; a
trigram GIN index on exactly that expression serves it. SQLite (local runs) scans
the small table and needs none."""

from django.db import migrations

INDEX = (
    "CREATE INDEX IF NOT EXISTS accounts_member_responsibility_trgm ON accounts_companymember "
    "USING gin ((UPPER(responsibility::text)) gin_trgm_ops)"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS accounts_member_responsibility_trgm")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_person_at_verified_company")]

    operations = [migrations.RunPython(create_index, drop_index)]
