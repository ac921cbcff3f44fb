from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out the writes of cards and books (CREATE INDEX
    # CONCURRENTLY, outside a transaction).
    atomic = False

    dependencies = [
        ("beneficiaries", "0011_name_terms_index"),
        ("distributions", "0006_item_commune"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="item",
            index=models.Index(fields=["issued_on", "id"], name="item_issued_idx"),
        ),
        AddIndexConcurrently(
            model_name="item",
            index=models.Index(
                fields=["province", "issued_on", "id"], name="item_province_issued_idx"
            ),
        ),
    ]
