#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# CPU frequency governor `performance` on every CPU: the clock does not drop while a core
# waits for the next order and ramp back up (tens of µs) when it arrives. Spinning agents
# keep their own cores busy anyway; this matters for the cores that sleep (admin plane,
# IRQs, clients on the same host) and for hosts running spin_yield or backoff.
#
# Virtual machines usually have no cpufreq (the hypervisor owns the clock): the script
# says so and exits 0. On intel_pstate hosts `performance` is one of its two policies.
set -euo pipefail

TUNING_NAME=governor
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

CPUFREQ_DIR=${RTES_CPUFREQ_DIR:-/sys/devices/system/cpu/cpufreq}
want=performance

usage() {
    cat <<EOF
usage: $0 [--dry-run] [--revert]
Sets the cpufreq governor of every CPU policy to $want; saves the previous governors
under $STATE_DIR. Without cpufreq (most VMs) there is nothing to do: exits 0.
  --dry-run   print every command it would run, change nothing
  --revert    restore the governors saved by an earlier run
EOF
}

while (($#)); do
    parse_common_option "$1" || {
        usage >&2
        die "unknown option $1"
    }
    shift
done
require_root_unless_dry_run

if ((REVERT)); then
    keys=$(state_keys)
    [ -n "$keys" ] || say "nothing to revert: no saved governors in $STATE_DIR"
    for key in $keys; do
        old=$(state_get "$key")
        file="$CPUFREQ_DIR/$key/scaling_governor"
        if [ ! -f "$file" ]; then
            report_skipped "$key no longer exists; dropping its saved governor $old"
        elif [ "$(cat "$file")" = "$old" ]; then
            report_unchanged "$key governor is already $old"
        else
            cur=$(cat "$file")
            write_value "$file" "$old"
            report_change "$key governor" "$cur" "$old"
        fi
        state_forget "$key"
    done
    state_cleanup
    report_summary
    exit 0
fi

shopt -s nullglob
policies=("$CPUFREQ_DIR"/policy*/scaling_governor)
if ((${#policies[@]} == 0)); then
    say "no cpufreq on this host ($CPUFREQ_DIR has no policies): the frequency is not under the kernel's control here (typical in a VM); nothing to do"
    exit 0
fi

for file in "${policies[@]}"; do
    dir=${file%/scaling_governor}
    policy=${dir##*/}
    cur=$(cat "$file")
    cpus=$(cat "$dir/affected_cpus" 2>/dev/null || printf '?')
    if [ "$cur" = "$want" ]; then
        report_unchanged "$policy (CPUs $cpus) governor is already $want"
        continue
    fi
    if ! grep -qw "$want" "$dir/scaling_available_governors" 2>/dev/null; then
        report_skipped "$policy (CPUs $cpus) does not offer $want ($(cat "$dir/scaling_available_governors" 2>/dev/null))"
        continue
    fi
    state_save "$policy" "$cur"
    write_value "$file" "$want"
    report_change "$policy (CPUs $cpus) governor" "$cur" "$want"
done
report_summary
