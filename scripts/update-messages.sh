#!/usr/bin/env bash
# Refresh the message catalogs from the code, plus WTForms' own messages (it has no Vietnamese).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# PYTHONPATH: babel.cfg names an extractor of this project (web.api.openapi_i18n)
PYTHONPATH=. $BIN/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --ignore-dirs='.* ._ tests bench' .
WTF_POT=$($BIN/python -c "import wtforms, pathlib; print(pathlib.Path(wtforms.__file__).parent / 'locale' / 'wtforms.pot')")
$BIN/python - "$WTF_POT" <<'PY'
import sys
from babel.messages.pofile import read_po, write_po
with open("translations/messages.pot", "rb") as f:
    ours = read_po(f)
with open(sys.argv[1], "rb") as f:
    for message in read_po(f):
        if message.id and message.id not in ours:
            ours[message.id] = message
with open("translations/messages.pot", "wb") as f:
    write_po(f, ours, width=100)
PY
$BIN/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching
