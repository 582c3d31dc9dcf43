#!/usr/bin/env bash
# The gettext workflow, with Babel:
#   scripts/i18n.sh extract   source strings -> locales/pmm_bot.pot
#   scripts/i18n.sh update    .pot -> locales/{en,fr,es}/LC_MESSAGES/pmm_bot.po (keeps translations)
#   scripts/i18n.sh compile   .po -> .mo (the bot loads these; tests fail if they are stale)
#   scripts/i18n.sh all       the three in order
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-pybabel}"
command -v "$PYBABEL" >/dev/null || PYBABEL=".venv/bin/pybabel"
extract() {
  "$PYBABEL" -q extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --sort-by-file --no-location \
    --project pmm-bot --copyright-holder "pmm-bot" -o locales/pmm_bot.pot .
}
update() {
  for lang in en fr es; do
    if [ -f "locales/$lang/LC_MESSAGES/pmm_bot.po" ]; then
      "$PYBABEL" -q update -N -i locales/pmm_bot.pot -d locales -D pmm_bot -l "$lang" --no-fuzzy-matching --ignore-obsolete
    else
      "$PYBABEL" -q init -i locales/pmm_bot.pot -d locales -D pmm_bot -l "$lang"
    fi
  done
}
compile() {
  "$PYBABEL" -q compile -d locales -D pmm_bot --use-fuzzy
}
case "${1:-all}" in
  extract) extract ;;
  update) update ;;
  compile) compile ;;
  all) extract; update; compile ;;
  *) echo "usage: $0 [extract|update|compile|all]" >&2; exit 2 ;;
esac
