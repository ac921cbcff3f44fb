import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

import beneficiaries.models


class Migration(migrations.Migration):
    # Built beside the old index without locking out the recipients' reads and writes
    # (CREATE INDEX CONCURRENTLY, outside a transaction), then the old one dropped.
    # The expression is the model's: tests/beneficiaries/test_search.py holds the SQL it
    # built, so that a change of it comes with a migration that builds the index again.
    atomic = False

    dependencies = [
        ("beneficiaries", "0010_search_and_list_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="beneficiary",
            index=django.contrib.postgres.indexes.GinIndex(
                beneficiaries.models.NameTerms(models.F("search_name")),
                name="beneficiary_name_terms_idx",
            ),
        ),
        RemoveIndexConcurrently(
            model_name="beneficiary",
            name="beneficiary_name_words_idx",
        ),
    ]
