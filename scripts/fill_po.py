"""Fills empty msgstr entries of a .po file from a JSON mapping (msgid -> msgstr).

    python scripts/fill_po.py locales/fr/LC_MESSAGES/pmm_bot.po translations.json

Used to hand in a batch of translations without touching the rest of the file.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po

path, mapping_path = sys.argv[1], sys.argv[2]
with open(path, "rb") as handle:
    catalog = read_po(handle)
with open(mapping_path, encoding="utf-8") as handle:
    mapping = json.load(handle)
for message in catalog:
    if message.id in mapping and not message.string:
        message.string = mapping[message.id]
with open(path, "wb") as handle:
    write_po(handle, catalog, width=76, omit_header=False, sort_by_file=True, no_location=True)
