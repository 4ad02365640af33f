#!/usr/bin/env bash
# The test suite runs the account and billing tests against a real PostgreSQL
# server it starts itself (tests/support/postgres.py). This makes sure the server
# binaries are installed: from Debian's packages when running as root.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing PostgreSQL for the test suite (apt-get)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
else
  echo "PostgreSQL server binaries not found and cannot install them (need root + apt-get);" \
       "the PostgreSQL tests will be skipped" >&2
fi
