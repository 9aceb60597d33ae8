#!/bin/bash
# deps.sh: install the Debian 12 packages xhv's build and tests need (only what is missing).
set -eu
pkgs="make gcc gcc-multilib libc6-dev libxen-dev clang binutils ca-certificates xenstore-utils"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "xhv: installing:$missing"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
