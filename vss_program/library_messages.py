"""Messages of the libraries' admin pages that ship no Vietnamese translation.

Listed here so that makemessages puts them in our catalogue, which Django
reads before the libraries' own (LOCALE_PATHS comes first).
"""

from django.utils.translation import gettext_noop

IMPORT_EXPORT = [
    gettext_noop("Import"),
    gettext_noop("Export"),
    gettext_noop("Submit"),
    gettext_noop("Format"),
    gettext_noop("Resource"),
    gettext_noop("This exporter will export the following fields: "),
]
