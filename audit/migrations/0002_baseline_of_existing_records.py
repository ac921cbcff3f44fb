"""A first snapshot ("baseline") of every tracked record that exists when the audit trail begins.

The values before a change are those of the record's previous snapshot; for a
record created before the triggers were installed there would be none, and its
first change would show only the values after.  One INSERT ... SELECT per
table; nothing to do on a new, empty database.
"""

from django.db import migrations

TRACKED = [
    ("beneficiaries", "Beneficiary", "BeneficiaryEvent"),
    ("distributions", "Plan", "PlanEvent"),
    ("distributions", "Quota", "QuotaEvent"),
    ("distributions", "Pledge", "PledgeEvent"),
    ("distributions", "Handover", "HandoverEvent"),
    ("distributions", "Item", "ItemEvent"),
    ("sponsors", "Sponsor", "SponsorEvent"),
    ("reference", "Rate", "RateEvent"),
]


def snapshot_existing_records(apps, schema_editor):
    quote = schema_editor.quote_name
    for app_label, model_name, event_name in TRACKED:
        model = apps.get_model(app_label, model_name)
        event = apps.get_model("audit", event_name)
        columns = [
            field.column
            for field in event._meta.concrete_fields
            if not field.name.startswith("pgh_")
        ]
        listed = ", ".join(quote(column) for column in columns)
        schema_editor.execute(
            f"INSERT INTO {quote(event._meta.db_table)} "
            f"({listed}, pgh_obj_id, pgh_label, pgh_created_at) "
            f"SELECT {listed}, {quote(model._meta.pk.column)}, 'baseline', NOW() "
            f"FROM {quote(model._meta.db_table)}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_track_program_records"),
    ]

    operations = [
        migrations.RunPython(snapshot_existing_records, migrations.RunPython.noop),
    ]
