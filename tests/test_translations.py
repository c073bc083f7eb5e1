from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent.parent / "locale/nl/LC_MESSAGES/django.po"


def test_every_dutch_entry_is_translated():
    po = polib.pofile(str(CATALOGUE))
    untranslated = [entry.msgid for entry in po if not entry.translated()]
    fuzzy = [entry.msgid for entry in po if "fuzzy" in entry.flags]
    assert untranslated == []
    assert fuzzy == []
