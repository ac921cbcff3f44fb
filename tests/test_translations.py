from pathlib import Path

import polib
import pytest
from django.core.management import call_command

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def test_every_message_has_a_vietnamese_translation():
    catalogue = polib.pofile(LOCALE_DIR / "vi" / "LC_MESSAGES" / "django.po")
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_compiled_catalogue_matches_its_source(language):
    # Compiled catalogues are committed: a machine with only Python has no msgfmt.
    source = polib.pofile(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    compiled = polib.mofile(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo")
    expected = {entry.msgid: entry.msgstr for entry in source.translated_entries()}
    assert {entry.msgid: entry.msgstr for entry in compiled if entry.msgid} == expected


@pytest.mark.django_db
def test_the_models_need_no_migration_that_is_not_written():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
