#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Moves hardware interrupts off the exchange's CPUs. An interrupt on a core that runs a
# spinning agent steals it for the handler and the softirq after it (µs each, more for a
# network burst) — a latency spike on whatever order is in flight.
#
# Each IRQ that may fire on an exchange CPU keeps the rest of its CPUs; one that would be
# left with none gets all the other ("housekeeping") CPUs. The default for new IRQs
# (/proc/irq/default_smp_affinity) becomes the housekeeping CPUs. Managed IRQs (per-queue
# interrupts of multiqueue devices whose affinity the kernel owns) refuse the change: they
# are reported and skipped; isolcpus=managed_irq,... at boot keeps them off (README.md).
#
# Loopback has no IRQ: a datagram the exchange sends to a local member of its multicast group
# (rtes-feed, the web view's tape, a feed handler on the same host) is received in the NET_RX
# softirq of the sending CPU, and when that softirq runs out of budget ksoftirqd takes the
# engine's CPU from it (benchmarks/RESULTS.md, "Issue 17": 356 preemptions, 67 ms in 3 s at
# 100k commands/s, up to 1 ms each). So the script also steers lo's receive processing
# (Receive Packet Steering, /sys/class/net/lo/queues/rx-*/rps_cpus) to the housekeeping CPUs.
#
# irqbalance, if running, moves IRQs back: the script warns. Runtime only.
set -euo pipefail

TUNING_NAME="irq-affinity"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

PROC_IRQ=${RTES_PROC_IRQ:-/proc/irq}
SYS_NET=/sys/class/net
default_config=/etc/rtes/config.json
cores_arg=""
config=""

usage() {
    cat <<EOF
usage: $0 (--cores LIST | --config FILE) [--dry-run] [--revert]
Keeps IRQs off the exchange's CPUs; saves previous affinities under $STATE_DIR.
  --cores LIST   the exchange's CPUs, e.g. 1,2 or 2-5
  --config FILE  read them from FILE's performance.cores (pinning must be on);
                 with neither option, $default_config is read if it exists
  --dry-run      print every command it would run, change nothing
  --revert       restore the affinities saved by an earlier run
EOF
}

while (($#)); do
    if parse_common_option "$1"; then
        shift
        continue
    fi
    case "$1" in
    --cores | --config)
        (($# >= 2)) || die "$1 needs a value"
        if [ "$1" = --cores ]; then cores_arg=$2; else config=$2; fi
        shift 2
        ;;
    --cores=*)
        cores_arg=${1#--cores=}
        shift
        ;;
    --config=*)
        config=${1#--config=}
        shift
        ;;
    *)
        usage >&2
        die "unknown option $1"
        ;;
    esac
done
require_root_unless_dry_run

# Writes the affinity LIST of IRQ (a number, or "default" for default_smp_affinity).
set_affinity() {
    local irq=$1 list=$2
    if [ "$irq" = default ]; then
        write_value "$PROC_IRQ/default_smp_affinity" "$(cpulist_to_mask "$(cpulist_expand "$list")")"
    else
        write_value "$PROC_IRQ/$irq/smp_affinity_list" "$list" 2>/dev/null
    fi
}
get_affinity() {
    if [ "$1" = default ]; then
        cpulist_compact "$(cpumask_to_list "$(cat "$PROC_IRQ/default_smp_affinity")")"
    else
        cat "$PROC_IRQ/$1/smp_affinity_list"
    fi
}
irq_label() {
    if [ "$1" = default ]; then
        printf 'default IRQ affinity'
    else
        local name
        name=$(awk -v n="$1:" '$1 == n {print $NF}' /proc/interrupts)
        printf 'IRQ %s%s' "$1" "${name:+ ($name)}"
    fi
}

if ((REVERT)); then
    keys=$(state_keys)
    [ -n "$keys" ] || say "nothing to revert: no saved affinities in $STATE_DIR"
    for key in $keys; do
        case "$key" in
        rps-lo-*)
            queue=${key#rps-lo-}
            old=$(state_get "$key")
            file="$SYS_NET/lo/queues/$queue/rps_cpus"
            if [ ! -e "$file" ]; then
                report_skipped "lo $queue no longer exists; dropping its saved rps_cpus $old"
            elif [ "$(cat "$file")" = "$old" ]; then
                report_unchanged "lo $queue rps_cpus is already $old"
            elif write_value "$file" "$old" 2>/dev/null; then
                report_change "lo $queue rps_cpus" "$(cat "$file")" "$old"
            else
                report_skipped "lo $queue rps_cpus: the kernel refused $old"
            fi
            state_forget "$key"
            continue
            ;;
        esac
        irq=${key#irq-}
        old=$(state_get "$key")
        if [ "$irq" != default ] && [ ! -d "$PROC_IRQ/$irq" ]; then
            report_skipped "IRQ $irq no longer exists; dropping its saved affinity $old"
        else
            cur=$(get_affinity "$irq")
            if [ "$(cpulist_expand "$cur")" = "$(cpulist_expand "$old")" ]; then
                report_unchanged "$(irq_label "$irq") is already $old"
            elif set_affinity "$irq" "$old"; then
                report_change "$(irq_label "$irq")" "$cur" "$old"
            else
                report_skipped "$(irq_label "$irq"): the kernel refused $old"
            fi
        fi
        state_forget "$key"
    done
    state_cleanup
    report_summary
    exit 0
fi

if [ -z "$cores_arg" ]; then
    if [ -z "$config" ] && [ -r "$default_config" ]; then
        config=$default_config
    fi
    [ -n "$config" ] || {
        usage >&2
        die "give the exchange's CPUs with --cores LIST or --config FILE ($default_config does not exist)"
    }
    cores_arg=$(cores_from_config "$config") || die "no CPUs to keep IRQs off; give them with --cores LIST"
    say "exchange CPUs from $config: $cores_arg"
fi
cores=$(cpulist_expand "$cores_arg") || die "--cores: cannot read CPU list '$cores_arg' (use e.g. 1,2 or 2-5)"
[ -n "$cores" ] || die "--cores: empty CPU list"
online=$(online_cpus)
missing=$(cpus_minus "$cores" "$online")
[ -z "$missing" ] || die "CPU(s) $missing are not online on this host (online: $(cpulist_compact "$online"))"
housekeeping=$(cpus_minus "$online" "$cores")
[ -n "$housekeeping" ] || die "CPUs $(cpulist_compact "$cores") are every online CPU: IRQs would have nowhere to go; leave at least one CPU to the system"
say "exchange CPUs $(cpulist_compact "$cores"); IRQs go to $(cpulist_compact "$housekeeping")"

if pgrep -x irqbalance >/dev/null 2>&1; then
    warn "irqbalance is running and will move IRQs back: stop it, or set IRQBALANCE_BANNED_CPULIST=$(cpulist_compact "$cores") in /etc/default/irqbalance and restart it"
fi

for irq in default $(find "$PROC_IRQ" -mindepth 1 -maxdepth 1 -name '[0-9]*' -printf '%f\n' | sort -n); do
    [ "$irq" = default ] || [ -w "$PROC_IRQ/$irq/smp_affinity_list" ] || ((DRY_RUN)) || {
        report_skipped "$(irq_label "$irq"): smp_affinity_list is not writable; skipped"
        continue
    }
    cur=$(get_affinity "$irq")
    cur_cpus=$(cpulist_expand "$cur")
    if [ -z "$(cpus_common "$cur_cpus" "$cores")" ]; then
        report_unchanged "$(irq_label "$irq") = $cur (ok)"
        continue
    fi
    new_cpus=$(cpus_minus "$cur_cpus" "$cores")
    [ -n "$new_cpus" ] || new_cpus=$housekeeping
    new=$(cpulist_compact "$new_cpus")
    saved_before=0
    state_has "irq-$irq" && saved_before=1
    state_save "irq-$irq" "$cur"
    if set_affinity "$irq" "$new"; then
        report_change "$(irq_label "$irq")" "$cur" "$new"
    else
        # Managed and per-CPU IRQs refuse (EIO): nothing changed, nothing to restore.
        report_skipped "$(irq_label "$irq") = $cur: the kernel refused $new (a managed or per-CPU IRQ); skipped"
        ((saved_before)) || state_forget "irq-$irq"
    fi
done

# Loopback's receive processing (see the top): to the housekeeping CPUs.
rps_mask=$(cpulist_to_mask "$housekeeping")
for file in "$SYS_NET"/lo/queues/rx-*/rps_cpus; do
    [ -e "$file" ] || {
        report_skipped "lo has no rps_cpus (a kernel without CONFIG_RPS): loopback receive stays on the sending CPU"
        break
    }
    queue=$(basename "$(dirname "$file")")
    cur=$(cat "$file")
    cur_list=$(cpumask_to_list "$cur")
    if [ -n "$cur_list" ] && [ -z "$(cpus_common "$cur_list" "$cores")" ]; then
        report_unchanged "lo $queue rps_cpus = $cur (ok)"
        continue
    fi
    state_save "rps-lo-$queue" "$cur"
    if write_value "$file" "$rps_mask" 2>/dev/null; then
        report_change "lo $queue rps_cpus" "$cur" "$rps_mask"
    else
        report_skipped "lo $queue rps_cpus = $cur: the kernel refused $rps_mask"
    fi
done
report_summary
