#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the browser test, when it is missing.
# Playwright drives this binary through `executable_path`; it never downloads a browser of its own.
# Needs root (or sudo without a password) and apt; asks nothing.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "install-chromium: apt-get not found; install Chromium at /usr/bin/chromium by hand" >&2
    exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! sudo -n true 2>/dev/null; then
        echo "install-chromium: needs root or passwordless sudo to run apt-get" >&2
        exit 1
    fi
    sudo=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null)"
