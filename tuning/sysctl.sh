#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Network sysctls for low latency (the list and the reason for each: RTES_SYSCTLS in
# common.sh, and README.md). Raises buffer and backlog limits (never lowers a higher
# value), turns on socket busy polling, keeps TCP's congestion window across idle gaps,
# turns off TCP autocorking and NUMA balancing.
# Runtime only: a reboot restores the distribution's values (README.md: persisting).
set -euo pipefail

TUNING_NAME=sysctl
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

usage() {
    cat <<EOF
usage: $0 [--dry-run] [--revert]
Sets the network sysctls RTES recommends; saves previous values under $STATE_DIR.
  --dry-run   print every command it would run, change nothing
  --revert    restore the values saved by an earlier run
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

current() { sysctl -n "$1" 2>/dev/null | tr -s '\t ' '  '; }

# The value KEY should get under RULE and recommended VALUE, given its current value
# (empty when it already meets the recommendation).
target() {
    local rule=$1 value=$2 cur=$3 a b c
    case "$rule" in
    min) ((cur >= value)) || printf '%s' "$value" ;;
    eq) [ "$cur" = "$value" ] || printf '%s' "$value" ;;
    max3)
        read -r a b c <<<"$cur"
        ((c >= value)) || printf '%s %s %s' "$a" "$b" "$value"
        ;;
    *) die "unknown rule $rule" ;;
    esac
}

if ((REVERT)); then
    keys=$(state_keys)
    [ -n "$keys" ] || say "nothing to revert: no saved values in $STATE_DIR"
    for key in $keys; do
        old=$(state_get "$key")
        cur=$(current "$key") || cur=""
        if [ "$cur" = "$old" ]; then
            report_unchanged "$key is already $old"
        else
            run sysctl -q -w "$key=$old"
            report_change "$key" "$cur" "$old"
        fi
        state_forget "$key"
    done
    state_cleanup
    report_summary
    exit 0
fi

for entry in "${RTES_SYSCTLS[@]}"; do
    IFS='|' read -r key rule value _why <<<"$entry"
    if ! cur=$(current "$key") || [ -z "$cur" ]; then
        report_skipped "$key does not exist on this kernel; skipped"
        continue
    fi
    new=$(target "$rule" "$value" "$cur")
    if [ -z "$new" ]; then
        report_unchanged "$key = $cur (ok)"
        continue
    fi
    state_save "$key" "$cur"
    run sysctl -q -w "$key=$new"
    report_change "$key" "$cur" "$new"
done
report_summary
if ((CHANGED && !DRY_RUN)); then
    say "runtime only; to keep these across reboots copy them to /etc/sysctl.d/60-rtes.conf (README.md)"
fi
