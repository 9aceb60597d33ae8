#!/bin/bash
# demo.sh: on a fresh Debian 12 machine: install what is missing, build, boot the demo guest.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
make -j"$(nproc)" build/xhv guests
exec build/xhv run --cmdline "console=hvc0 demo" build/guest/hello.elf
