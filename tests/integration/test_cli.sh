#!/bin/bash
# test_cli.sh [BUILD_DIR]: the xl verbs of `xhv` against a private xhvd (BUILD_DIR/xhvd, default
# build): config errors, several domains at once, list states, lifecycle verbs, names, on_crash
# actions, dmesg, refusals, and 200 create/destroy cycles that must leave the daemon's fds,
# threads and RSS at baseline. Prints PASS/FAIL/SKIPPED per case and
# "cli: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.."
b=${1:-build}
xhv=$b/xhv xhvd=$b/xhvd gdir=build/guest cfgs=tests/integration/cfgs
. tests/integration/daemon_lib.sh

# Stop NAME's monitor (its pid is in its log, xl-NAME.log beside the socket; it must still be
# one of ours: its command line names our socket), then destroy NAME and its preserved copies.
stop_monitor() {
    local pid i d
    for pid in $(sed -n 's/.*xhv-monitor\[\([0-9]*\)\]: watching domain .*/\1/p' "$tmp/xl-$1.log" | sort -u); do
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--socket $sock" || continue
        kill "$pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    done
    for d in $(timeout 30 "$xhv" --socket "$sock" list | awk -v n="$1" '$1 == n || index($1, n "-20") == 1 { print $1 }'); do
        timeout 10 "$xhv" --socket "$sock" destroy "$d" >/dev/null 2>&1
    done
}

finish() {
    echo "cli: $pass passed, $fail failed, $skip skipped"
    [ $fail = 0 ]
    exit
}

# ---- without a daemon or KVM ----
out=$("$xhv" --help 2>&1)
missing=""
for v in create list destroy shutdown reboot pause unpause dmesg debug-keys info vcpu-list \
    vcpu-pin domid domname rename console run version; do
    grep -q "xhv $v" <<<"$out" || missing="$missing $v"
done
[ -z "$missing" ] && ok help-lists-verbs || ko help-lists-verbs "missing:$missing"

x list
expect no-daemon 1 "cannot connect to xhvd at $sock: is it running?"
out=$(XHV_SOCKET=$sock timeout 30 "$xhv" destroy 3 2>&1)
st=$?
expect no-daemon-env 1 "cannot connect to xhvd at $sock"

x create $cfgs/bad_type.cfg
expect bad-type 1 "$cfgs/bad_type.cfg:4: type \`pv' is not supported"
x create $cfgs/bad_memory.cfg
expect bad-memory 1 "$cfgs/bad_memory.cfg:5: parameter \`memory' must be a number"
x create $cfgs/bad_syntax.cfg
expect bad-syntax 1 "$cfgs/bad_syntax.cfg:4: config parsing error near \`console'"
x create $cfgs/bad_action.cfg
expect bad-action 1 "$cfgs/bad_action.cfg:4: action \`coredump-destroy' is not supported"
x create $cfgs/hello.cfg 'memory=0'
expect bad-override 1 "<command line>:1: parameter \`memory'"
x create /nonexistent/x.cfg
expect missing-config 1 "/nonexistent/x.cfg: cannot open config file"
x create -n $cfgs/unknown_key.cfg 'memory=48'
if [ "$st" = 0 ] && grep -q "unknown_key.cfg:4: warning: unknown or unsupported key \`vif'" <<<"$out" &&
    grep -q '"target_memkb": 49152' <<<"$out"; then ok dry-run-warns; else ko dry-run-warns "exit $st"; fi

# ---- with a daemon ----
if ! [ -c /dev/kvm ] || ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    echo "SKIPPED: /dev/kvm is missing or not accessible: the xhvd CLI tests do not run"
    skipped cli-daemon "no usable /dev/kvm"
    finish
fi
for f in "$xhvd" $gdir/hello.elf $gdir/crash.elf; do
    if ! [ -e "$f" ]; then
        skipped cli-daemon "$f is not built"
        finish
    fi
done
# A sanitizer build keeps freed memory in quarantine (256 MiB by default): keep it small so that
# RSS measures leaks, not the quarantine.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
start_daemon || finish
ok daemon-start

x list
expect list-dom0 0 "Domain-0"
x info
expect info 0 "xen_version            : 4.17"
x info xen_major
expect info-field 0 "4"

# Several domains at once.
pids=()
for n in a b c; do
    timeout 60 "$xhv" --socket "$sock" create -q $cfgs/hello.cfg "name=\"hello-$n\"" \
        >"$tmp/create-$n.out" 2>&1 &
    pids+=($!)
done
cst=0
for p in "${pids[@]}"; do wait "$p" || cst=1; done
out=$(cat "$tmp"/create-*.out)
[ $cst = 0 ] && ok create-parallel || ko create-parallel "a create failed"
if wait_until '[ "$(state_of hello-a | cut -c4)" = s ] && [ "$(state_of hello-b | cut -c4)" = s ] &&
    [ "$(state_of hello-c | cut -c4)" = s ]' 100; then
    ok list-shutdown-state
else
    x list
    ko list-shutdown-state "not all of hello-a/b/c show state s"
fi
x list
n=$(grep -c '^hello-[abc] ' <<<"$out")
[ "$n" = 3 ] && ok list-three || ko list-three "$n of 3 listed"

x create -c $cfgs/hello.cfg 'name="hello-console"'
expect create-console 0 "Test result: PASS"
x console hello-console
expect console-verb 0 "hello-arg"

# An SMP guest built by the toolstack: vCPU 0 boots, the guest brings up the others itself.
x create -c $cfgs/hello.cfg 'name="smp4"' 'kernel="build/guest/smp.elf"' 'vcpus=4'
expect create-smp 0 "Test result: PASS"
x vcpu-list smp4
n=$(awk '$1 == "smp4"' <<<"$out" | wc -l)
[ "$st" = 0 ] && [ "$n" = 4 ] && ok vcpu-list-smp || ko vcpu-list-smp "exit $st, $n of 4 vCPUs listed"
x destroy smp4

x create $cfgs/hello.cfg 'name="nokernel"' 'kernel="/nonexistent/k.elf"'
expect missing-kernel 1 "cannot read kernel /nonexistent/k.elf"
x create $cfgs/hello.cfg 'name="notelf"' "kernel=\"$cfgs/hello.cfg\""
expect kernel-not-elf 1 "hello.cfg: not an ELF"
x create $cfgs/hello.cfg 'name="huge"' 'memory=1048576'
expect not-enough-memory 1 "not enough free memory for 1048576 MiB"
x create $cfgs/hello.cfg 'name="tiny"' 'memory=1'
expect kernel-too-big 1 "image does not fit in memory"
x list
if grep -Eq '^(nokernel|notelf|huge|tiny) ' <<<"$out"; then ko failed-create-leaves-nothing "a failed domain is listed"; else ok failed-create-leaves-nothing; fi

x create $cfgs/hello.cfg 'name="hello-a"'
expect duplicate-name 1 "domain name 'hello-a' is already in use"

ida=$(domid_of hello-a)
x domname "$ida"
[ "$st" = 0 ] && [ "$out" = hello-a ] && ok domid-domname || ko domid-domname "domid '$ida' -> '$out'"
x rename hello-a hello-r
x domid hello-r
[ "$st" = 0 ] && [ "$out" = "$ida" ] && ok rename || ko rename "hello-r -> '$out' (want $ida)"
x domid hello-a
expect rename-old-gone 1 "no domain is named 'hello-a'"
x rename hello-b hello-r
expect rename-duplicate 1 "already in use"
x create -q -p $cfgs/hello.cfg 'name="hello-a"'
[ "$st" = 0 ] && [ "$(domid_of hello-a)" != "$ida" ] && ok rename-frees-name || ko rename-frees-name "exit $st"
x destroy hello-a
x create -q -p $cfgs/hello.cfg 'name="hello-priv"' 'xhv_privileged=1'
x list -l hello-priv
if [ "$st" = 0 ] && grep -q '"ssidref": 1,' <<<"$out"; then ok privileged-ssidref; else ko privileged-ssidref "no ssidref 1"; fi
x destroy hello-priv
x destroy hello-zzz
expect unknown-domain 1 "domain 'hello-zzz' does not exist"

# Paused creation, unpause, the guest then runs and powers off.
x create -p $cfgs/hello.cfg 'name="hello-p"'
st_p=$(state_of hello-p)
[ "$(cut -c3 <<<"$st_p")" = p ] && ok create-paused || ko create-paused "state '$st_p'"
x unpause hello-p
if [ "$st" = 0 ] && wait_until '[ "$(state_of hello-p | cut -c4)" = s ]' 100; then ok unpause; else ko unpause "state '$(state_of hello-p)'"; fi

# A live guest for pause/shutdown/reboot: the idle guest if built, else a paused domain.
if [ -e $gdir/idle.elf ]; then
    x create $cfgs/idle.cfg
    wait_until '[ "$(state_of idle | cut -c1-2)" != "--" ]' 50
    x pause idle
    [ "$(state_of idle | cut -c3)" = p ] && ok pause || ko pause "state '$(state_of idle)'"
    x unpause idle
    [ "$(state_of idle | cut -c3)" = - ] && ok unpause-live || ko unpause-live "state '$(state_of idle)'"
    idr=$(domid_of idle)
    x reboot idle
    if wait_until 'i=$(domid_of idle); [ -n "$i" ] && [ "$i" != "$idr" ]' 100; then ok reboot-restarts; else ko reboot-restarts "idle is still $(domid_of idle)"; fi
    x shutdown -w idle
    expect shutdown-wait 0 "has been"
    wait_until '! timeout 5 '"$xhv"' --socket '"$sock"' domid idle' 50 && ok poweroff-destroys ||
        ko poweroff-destroys "idle still exists"
else
    skipped live-guest "no build/guest/idle.elf: pause/reboot of a running guest untested"
    x create -p $cfgs/hello.cfg 'name="hello-s"'
    xto=20 x shutdown -w hello-s
    expect shutdown-wait 0 "has been shut down, reason code 0"
    [ "$(state_of hello-s | cut -c4-5)" = s- ] && ok shutdown-state || ko shutdown-state "state '$(state_of hello-s)'"
    x create -p $cfgs/hello.cfg 'name="hello-rb"'
    x reboot hello-rb
    [ "$st" = 0 ] && ok reboot-verb || ko reboot-verb "exit $st"
fi

# Xen finalises the shutdown of a domain whose vCPUs never ran (domain_shutdown() pauses them
# all, then __domain_finalise_shutdown()): a remote shutdown of a paused new domain completes.
x create -q -p $cfgs/hello.cfg 'name="hello-ps"'
xto=20 x shutdown -w hello-ps
expect shutdown-paused 0 "has been shut down, reason code 0"

x destroy hello-c
if [ "$st" = 0 ] && ! timeout 5 "$xhv" --socket "$sock" domid hello-c >/dev/null 2>&1; then ok destroy; else ko destroy "exit $st"; fi
x destroy 0
expect destroy-dom0 1 "control domain"

# on_crash actions, applied by the monitor.
x create $cfgs/crash_destroy.cfg
if [ "$st" = 0 ] && wait_until '! timeout 5 '"$xhv"' --socket '"$sock"' domid crash-destroy' 100; then ok on-crash-destroy; else ko on-crash-destroy "crash-destroy still exists"; fi
x create $cfgs/crash_restart.cfg
cst=$st id1=
# The guest crashes at once and the monitor restarts it: the name may be briefly absent.
wait_until 'id1=$(domid_of crash-restart); [ -n "$id1" ]' 150
st=$cst
if [ "$st" = 0 ] && [ -n "$id1" ] &&
    wait_until 'i=$(domid_of crash-restart); [ -n "$i" ] && [ "$i" != "'"$id1"'" ]' 150; then
    ok on-crash-restart
else
    ko on-crash-restart "no new id after $id1"
fi
stop_monitor crash-restart
x create $cfgs/crash_rename.cfg
if [ "$st" = 0 ] && wait_until 'timeout 5 '"$xhv"' --socket '"$sock"' list | grep -q "^crash-rename-20"' 150; then
    ok on-crash-rename-restart
else
    x list
    ko on-crash-rename-restart "no crash-rename-<time> domain"
fi
stop_monitor crash-rename

x dmesg
[ "$st" = 0 ] && [ -n "$out" ] && ok dmesg || ko dmesg "exit $st, empty=$([ -z "$out" ] && echo yes)"

# Debug keys: 'h' lists the keys, 'q' dumps every domain (and raises VIRQ_DEBUG), in dmesg.
x debug-keys hqZ
dk=$st
x dmesg
if [ "$dk" = 0 ] && grep -qF "'h' pressed -> showing installed handlers" <<<"$out" &&
    grep -qF "'q' pressed -> dumping domain info" <<<"$out" &&
    grep -qF "General information for domain 0:" <<<"$out" &&
    grep -qF "General information for domain $ida:" <<<"$out" &&
    grep -qF "Notifying guest $ida:0 (virq 1, port 0)" <<<"$out"; then
    ok debug-keys
else
    ko debug-keys "exit $dk; dump not in dmesg"
fi
x debug-keys
expect debug-keys-usage 1 "usage: xhv debug-keys KEYS"
x debug-keys a b
expect debug-keys-two-args 1 "usage: xhv debug-keys KEYS"

# VIRQ_DOM_EXC reaches domain 0, i.e. xhvd's xenstore: "@releaseDomain" fires when a domain dies.
if command -v xenstore-watch >/dev/null; then
    XENSTORED_PATH=$sock.xs timeout 30 xenstore-watch -n 2 @releaseDomain >"$tmp/rel.out" 2>&1 &
    wpid=$!
    wait_until 'grep -q . "$tmp/rel.out"' 100
    x create -q -p $cfgs/hello.cfg 'name="hello-rel"'
    x destroy hello-rel
    if wait $wpid && [ "$(cat "$tmp/rel.out")" = "$(printf '@releaseDomain\n@releaseDomain')" ]; then
        ok release-domain-watch
    else
        out=$(cat "$tmp/rel.out") ko release-domain-watch "xenstore-watch saw no @releaseDomain"
    fi
else
    skipped release-domain-watch "no xenstore-watch (xenstore-utils)"
fi

x list -l
if [ "$st" = 0 ] && grep -q '"name": "hello-r"' <<<"$out" && grep -q '"on_poweroff": "preserve"' <<<"$out" &&
    { ! command -v python3 >/dev/null || python3 -m json.tool <<<"$out" >/dev/null; }; then
    ok list-json
else
    ko list-json "exit $st"
fi
x vcpu-pin hello-r 0 0
x vcpu-list hello-r
if [ "$st" = 0 ] && grep -Eq "^hello-r +$ida +0 .* 0 / all" <<<"$out"; then ok vcpu-pin; else ko vcpu-pin "affinity not shown as '0 / all'"; fi
x vcpu-pin hello-r 0 99999
expect vcpu-pin-bad 1 "bad CPU list '99999'"

# Refusal: xhvd serves root only.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 \
    --clear-groups test -x "$xhv" 2>/dev/null; then
    chmod 755 "$tmp"
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups timeout 30 "$xhv" --socket "$sock" list 2>&1)
    st=$?
    chmod 700 "$tmp"
    if [ $st = 1 ] && grep -Eq "permission denied|refused" <<<"$out"; then ok unprivileged-refused; else ko unprivileged-refused "exit $st"; fi
else
    skipped unprivileged-refused "needs root, setpriv and an xhv binary user nobody can run"
fi

# 200 create/destroy cycles leave the daemon's fds, threads and RSS at baseline.
usage() { echo "$(ls /proc/$dpid/fd | wc -l) $(awk '/^Threads:/ { print $2 }' /proc/$dpid/status) $(awk '/^VmRSS:/ { print $2 }' /proc/$dpid/status)"; }
cycle() {
    timeout 60 "$xhv" --socket "$sock" create -q -e $cfgs/hello.cfg 'name="leak"' >"$tmp/leak.out" 2>&1 &&
        timeout 60 "$xhv" --socket "$sock" destroy leak >>"$tmp/leak.out" 2>&1
}
for i in 1 2 3 4 5; do cycle; done
read -r fd0 th0 rss0 <<<"$(usage)"
bad=0
for ((i = 0; i < 200; i++)); do cycle || { bad=1; break; }; done
read -r fd1 th1 rss1 <<<"$(usage)"
echo "    create/destroy x200: fds $fd0 -> $fd1, threads $th0 -> $th1, RSS ${rss0} -> ${rss1} KiB"
out=$(cat "$tmp/leak.out")
if [ $bad = 0 ] && [ "$fd1" -le "$fd0" ] && [ "$th1" -le "$th0" ] && [ "$rss1" -le $((rss0 + 16384)) ]; then
    ok create-destroy-200
else
    ko create-destroy-200 "cycle $i failed=$bad or usage grew"
fi

monitors() { # any process (a monitor) started with our socket?
    local f
    for f in /proc/[0-9]*/cmdline; do
        tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "--socket $sock " && return 0
    done
    return 1
}
# The daemon goes away: every monitor exits (one watches a paused domain now).
x create -q -p $cfgs/hello.cfg 'name="watched"'
wait_until monitors 50 && ok monitor-running || ko monitor-running "no monitor process found"
kill "$dpid"
wait "$dpid" 2>/dev/null
dpid=
if wait_until '! monitors' 100; then ok monitors-exit; else ko monitors-exit "monitors still running"; fi
finish
