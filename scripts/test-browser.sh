#!/usr/bin/env bash
# The booking page in a real browser: Debian's chromium (apt-get installs it
# when missing; never a browser download) driven by playwright-core.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM_PATH" ]]; then
  echo "installing Debian's chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[[ -d web/booking-page/dist ]] || node --import tsx scripts/build-page.ts
export CHROMIUM_PATH
exec npx vitest run --config vitest.browser.config.ts "$@"
