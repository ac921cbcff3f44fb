from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out the recipients' writes (CREATE INDEX CONCURRENTLY,
    # outside a transaction).
    atomic = False

    dependencies = [
        ("beneficiaries", "0011_name_terms_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="beneficiary",
            index=models.Index(
                condition=models.Q(("anonymised_at__isnull", True)),
                fields=["province", "search_name", "birth_year", "commune"],
                name="beneficiary_province_dup_idx",
            ),
        ),
    ]
