#!/usr/bin/env bash
# Makes sure `redis-server` is on this machine, installing Debian's package when it is missing.
# Tests call it before they start a server of their own; it does nothing when Redis is there.
# Concurrent callers (parallel test files) are serialised by a lock file, and apt waits for dpkg's lock.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
exec 9>/tmp/ddn-ensure-redis.lock
flock 9
command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
echo "redis-server is missing: installing Debian's redis-server package" >&2
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends redis-server >&2
# The package starts a system-wide server on 6379; the tests start their own on free ports.
($sudo systemctl disable --now redis-server >/dev/null 2>&1 || $sudo service redis-server stop >/dev/null 2>&1 || true)
command -v redis-server >/dev/null 2>&1
