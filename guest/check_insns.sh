#!/bin/sh
# check_insns.sh: fail if a guest ELF holds instructions kvm-pvm cannot emulate at CPL 0
# (x87, MMX/SSE/AVX, int3/int $n/icebp, 32-bit iret, vmcall, xsave/fxsave, popcnt, clac...).
set -e
elf="$1"
[ -f "$elf" ] || { echo "check_insns: no such file: $elf" >&2; exit 2; }
# A 64-bit guest's PVH entry code (section .boot32) is 32-bit code: disassemble it as such.
disasm() {
    if objdump -h "$elf" | grep -q ' \.boot32 '; then
        objdump -d --no-show-raw-insn -j .boot32 -M i386 "$elf"
        objdump -d --no-show-raw-insn -j .text "$elf"
    else
        objdump -d --no-show-raw-insn "$elf"
    fi
}
bad=$(disasm | awk -F'\t' '
    /^ *[0-9a-f]+:\t/ {
        n = split($2, w, /[ \t]+/); i = 1
        while (i < n && w[i] ~ /^(rep|repz|repnz|repe|repne|lock|data16|addr32|notrack|bnd|[c-gs]s)$/) i++
        m = w[i]
        if (m ~ /^(int3|int|int1|icebp|into|iret|iretl|iretw|vmcall|vmmcall|vmfunc|popcnt|clac|stac|ldmxcsr|stmxcsr|emms|cmpxchg16b|\(bad\))$/ ||
            m ~ /^(fx|x)(save|rstor)/ || (m ~ /^f[a-z0-9]*$/ && m != "fs") ||
            $2 ~ /%(x|y|z)mm|%mm[0-7]|%st/)
            print $1 "\t" $2
    }')
if [ -n "$bad" ]; then
    echo "check_insns: $elf uses instructions the KVM emulator cannot run:" >&2
    echo "$bad" | head -20 >&2
    exit 1
fi
