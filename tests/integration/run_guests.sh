#!/bin/bash
# run_guests.sh XHV GUEST_DIR: boots every case of guests.list under KVM and checks exit status
# and output. Prints PASS/FAIL/SKIPPED per case and "integration: N passed, N failed, N skipped".
set -u
xhv=$1 gdir=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skip=0
kvm_ok=1
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || kvm_ok=0

# Fixtures for the error cases.
printf 'this is not an ELF file\n' > "$tmp/notelf"
cp "$(type -P true)" "$tmp/nopvh"
head -c $((4 << 20)) /dev/zero > "$tmp/module4m"

run_case() {
    local name=$1 args=$2 want=$3 text=$4 env=() argv=() pre=() a
    eval "set -- $args"
    for a in "$@"; do
        case $a in
        KERNEL) argv+=("$gdir/$name.elf") ;;
        KERNEL=*) argv+=("$gdir/${a#KERNEL=}.elf") ;;
        IMAGE=*) argv+=("$tmp/${a#IMAGE=}") ;;
        MODULE4M) argv+=("$tmp/module4m") ;;
        ENV=*) env+=("${a#ENV=}") ;;
        AS_NOBODY) pre=(setpriv --reuid=65534 --regid=65534 --clear-groups) ;;
        *) argv+=("$a") ;;
        esac
    done
    if [ $kvm_ok = 0 ] && [[ $name != err-* ]]; then
        echo "SKIPPED $name (no usable /dev/kvm)"
        skip=$((skip + 1))
        return
    fi
    if [ ${#pre[@]} -gt 0 ] && { [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null ||
        ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$xhv"; }; then
        echo "SKIPPED $name (needs root, setpriv and an xhv binary user nobody can run)"
        skip=$((skip + 1))
        return
    fi
    local out="$tmp/$name.out" st
    env "${env[@]}" "${pre[@]}" timeout 120 "$xhv" run "${argv[@]}" </dev/null >"$out" 2>&1
    st=$?
    if [ "$st" = "$want" ] && grep -qF -- "$text" "$out"; then
        echo "PASS $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name: exit status $st (expected $want), expected text '$text'"
        sed 's/^/    | /' "$out" | tail -40
        fail=$((fail + 1))
    fi
}

[ $kvm_ok = 1 ] || echo "SKIPPED: /dev/kvm is missing or not accessible: KVM integration tests do not run"
while IFS='|' read -r name args want text; do
    name=$(echo $name)
    [ -z "$name" ] || [[ $name == \#* ]] && continue
    run_case "$name" "$args" "$(echo $want)" "$(echo "$text" | sed 's/^ *//;s/ *$//')"
done < "$here/guests.list"
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
