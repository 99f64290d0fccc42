#!/usr/bin/env bash
# Installs Debian's chromium when /usr/bin/chromium is missing (the browser test drives it with
# playwright-core). Safe to run concurrently with other apt users: waits up to 5 minutes for the locks.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then exit 0; fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
apt=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)

echo "ensure-chromium: installing Debian's chromium" >&2
for attempt in 1 2 3; do
  if $sudo apt-get "${apt[@]}" update -qq; then break; fi
  [ "$attempt" -eq 3 ] && exit 1
  sleep 10
done
DEBIAN_FRONTEND=noninteractive $sudo apt-get "${apt[@]}" install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
/usr/bin/chromium --version >&2
