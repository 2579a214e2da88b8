#!/usr/bin/env bash
# System packages the tests use beyond Python's: pdftoppm (poppler-utils) renders exported PDFs to
# PNG; chromium (Debian's build, /usr/bin/chromium) is the real browser the tests/browser suite
# drives through Playwright (never `playwright install`), with fonts-dejavu-core so its screenshots
# have legible text. Installed from Debian's packages when missing and running as root; otherwise a
# note (the tests that need them then skip locally, and fail in CI).
set -euo pipefail
missing=()
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} (Debian packages)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Note: please install ${missing[*]}; the tests that need them will be skipped." >&2
fi
