#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Transparent huge pages: `madvise` (the default here) rather than `always` or `never`.
#
# - `always` gives every process THP: page faults may stall in direct compaction and
#   khugepaged rewrites page tables of running processes — latency spikes from work
#   nobody asked for, on the exchange's cores too.
# - `madvise` gives THP only to memory that asks with madvise(MADV_HUGEPAGE). The
#   exchange asks for its pools and rings when no hugetlbfs pages are reserved (the
#   fallback in DESIGN.md: hugetlbfs -> THP -> small pages), touches and mlocks them at
#   start, so the compaction cost is paid once, before the first order.
# - `never` removes that fallback. Choose it (--mode never) only on a host that reserves
#   hugetlbfs pages for the exchange (hugepages.sh) and wants no THP anywhere.
#
# defrag is set to `madvise` as well: only regions that asked for THP compact on fault.
set -euo pipefail

TUNING_NAME=thp
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

THP_DIR=${RTES_THP_DIR:-/sys/kernel/mm/transparent_hugepage}
mode=madvise

usage() {
    cat <<EOF
usage: $0 [--mode madvise|never] [--dry-run] [--revert]
Sets transparent huge pages to madvise (default) or never, and defrag to madvise;
saves the previous settings under $STATE_DIR.
  --mode M    madvise (recommended) or never
  --dry-run   print every command it would run, change nothing
  --revert    restore the settings saved by an earlier run
EOF
}

while (($#)); do
    if parse_common_option "$1"; then
        shift
        continue
    fi
    case "$1" in
    --mode)
        (($# >= 2)) || die "--mode needs a value"
        mode=$2
        shift 2
        ;;
    --mode=*)
        mode=${1#--mode=}
        shift
        ;;
    *)
        usage >&2
        die "unknown option $1"
        ;;
    esac
done
case "$mode" in madvise | never) ;; *) die "--mode must be madvise or never, not $mode" ;; esac
require_root_unless_dry_run

if [ ! -f "$THP_DIR/enabled" ]; then
    say "this kernel has no transparent huge pages ($THP_DIR/enabled is missing); nothing to do"
    exit 0
fi

# setting name -> value to set
set_choice() {
    local name=$1 want=$2 file="$THP_DIR/$1" cur
    cur=$(sysfs_choice "$file")
    if [ "$cur" = "$want" ]; then
        report_unchanged "$name is already $want"
        return 0
    fi
    if ! grep -qw -- "$want" "$file"; then
        report_skipped "$name: this kernel does not offer $want ($(cat "$file"))"
        return 0
    fi
    ((REVERT)) || state_save "$name" "$cur"
    write_value "$file" "$want"
    report_change "transparent_hugepage/$name" "$cur" "$want"
}

if ((REVERT)); then
    keys=$(state_keys)
    [ -n "$keys" ] || say "nothing to revert: no saved settings in $STATE_DIR"
    for key in $keys; do
        set_choice "$key" "$(state_get "$key")"
        state_forget "$key"
    done
    state_cleanup
    report_summary
    exit 0
fi

set_choice enabled "$mode"
[ -f "$THP_DIR/defrag" ] && set_choice defrag madvise
report_summary
if ((CHANGED && !DRY_RUN)); then
    say "runtime only; to keep it across reboots add transparent_hugepage=$mode to the kernel command line"
fi
