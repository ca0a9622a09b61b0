#!/usr/bin/env bash
# PyICU (the alphabetical order of names, services/collation.py) has no wheels: pip builds it against
# the system's ICU, which needs ICU's headers, pkg-config and a C++ compiler. Install Debian's when
# missing and we may (root, apt), as ensure-chromium.sh does for the browser tests.
set -euo pipefail
if pkg-config --exists icu-i18n 2>/dev/null && command -v c++ >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ICU's headers, pkg-config and g++ to build PyICU..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config g++ >/dev/null
else
  echo "PyICU is built against ICU: install Debian's 'libicu-dev', 'pkg-config' and 'g++' (or your system's equivalents)." >&2
  exit 1
fi
