#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Prints the host's current state against every recommendation the tuning scripts make
# (PASS / WARN, and INFO for facts worth knowing). Changes nothing and needs no root.
# Exits non-zero only on an error (a bad option, an unreadable --config), never because
# of a WARN.
set -euo pipefail

TUNING_NAME=check
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

default_config=/etc/rtes/config.json
cores_arg=""
config=""
want_pages=$RTES_HUGEPAGES_COUNT_DEFAULT
mount_dir=$RTES_HUGEPAGES_MOUNT_DEFAULT
user=$RTES_USER

usage() {
    cat <<EOF
usage: $0 [--cores LIST | --config FILE] [--hugepages COUNT] [--mount DIR] [--user USER]
Prints PASS / WARN / INFO for each recommendation; changes nothing.
  --cores LIST       the exchange's CPUs (for the IRQ and isolation checks), e.g. 1,2
  --config FILE      read them from FILE's performance.cores; without either option
                     $default_config is read if it exists and pins CPUs
  --hugepages COUNT  huge pages that should be reserved (default $RTES_HUGEPAGES_COUNT_DEFAULT)
  --mount DIR        where hugetlbfs should be mounted (default $RTES_HUGEPAGES_MOUNT_DEFAULT)
  --user USER        the exchange's user (default $RTES_USER)
EOF
}

while (($#)); do
    case "$1" in
    -h | --help)
        usage
        exit 0
        ;;
    --cores | --config | --hugepages | --mount | --user)
        (($# >= 2)) || die "$1 needs a value"
        case "$1" in
        --cores) cores_arg=$2 ;;
        --config) config=$2 ;;
        --hugepages) want_pages=$2 ;;
        --mount) mount_dir=$2 ;;
        --user) user=$2 ;;
        esac
        shift 2
        ;;
    *)
        usage >&2
        die "unknown option $1"
        ;;
    esac
done
[[ $want_pages =~ ^[0-9]+$ ]] || die "--hugepages must be a whole number, not $want_pages"

npass=0 nwarn=0 ninfo=0
pass() {
    printf 'PASS  %s\n' "$*"
    npass=$((npass + 1))
}
warnl() {
    printf 'WARN  %s\n' "$*"
    nwarn=$((nwarn + 1))
}
info() {
    printf 'INFO  %s\n' "$*"
    ninfo=$((ninfo + 1))
}

# --- The exchange's CPUs, if known.
cores=""
if [ -n "$cores_arg" ]; then
    cores=$(cpulist_expand "$cores_arg") || die "--cores: cannot read CPU list '$cores_arg'"
elif [ -n "$config" ]; then
    rc=0
    list=$(cores_from_config "$config") || rc=$?
    case $rc in
    0) cores=$(cpulist_expand "$list") ;;
    3) config="" ;; # pins no CPU: nothing to check IRQs against
    *) exit 1 ;;
    esac
elif [ -r "$default_config" ]; then
    if list=$(cores_from_config "$default_config" 2>/dev/null); then
        cores=$(cpulist_expand "$list")
        config=$default_config
    fi
fi
online=$(online_cpus)

echo "== sysctl (tuning/sysctl.sh)"
for entry in "${RTES_SYSCTLS[@]}"; do
    IFS='|' read -r key rule value why <<<"$entry"
    if ! cur=$(sysctl -n "$key" 2>/dev/null | tr -s '\t ' '  ') || [ -z "$cur" ]; then
        info "$key does not exist on this kernel"
        continue
    fi
    case "$rule" in
    min) ok=$((cur >= value)) want=">= $value" ;;
    eq)
        ok=0 want="= $value"
        [ "$cur" != "$value" ] || ok=1
        ;;
    max3)
        read -r _ _ third <<<"$cur"
        ok=$((third >= value)) want="max >= $value"
        ;;
    esac
    if ((ok)); then
        pass "$key = $cur"
    else
        warnl "$key = $cur, recommended $want: $why"
    fi
done
rt=$(sysctl -n kernel.sched_rt_runtime_us 2>/dev/null || echo "")
if [ -n "$rt" ] && [ "$rt" != -1 ]; then
    info "kernel.sched_rt_runtime_us = $rt: SCHED_FIFO threads are stopped for $(((1000000 - rt) / 1000)) ms each second (-1 lifts that; only on isolated cores, README.md)"
fi

echo "== transparent huge pages (tuning/thp.sh)"
thp_dir=/sys/kernel/mm/transparent_hugepage
nr_pages=$(sysctl -n vm.nr_hugepages 2>/dev/null || echo 0)
if [ -f "$thp_dir/enabled" ]; then
    thp=$(sysfs_choice "$thp_dir/enabled")
    case "$thp" in
    madvise) pass "THP enabled = madvise: only memory that asks gets THP (the exchange's fallback when no huge pages are reserved)" ;;
    never)
        if ((nr_pages > 0)); then
            pass "THP enabled = never, with $nr_pages huge pages reserved"
        else
            warnl "THP enabled = never and no huge pages reserved: the exchange runs on 4 KiB pages (tuning/thp.sh sets madvise)"
        fi
        ;;
    *) warnl "THP enabled = $thp, recommended madvise: 'always' compacts memory and runs khugepaged for every process (latency spikes)" ;;
    esac
    defrag=$(sysfs_choice "$thp_dir/defrag")
    if [ "$defrag" = always ]; then
        warnl "THP defrag = always, recommended madvise: every THP fault may stall in direct compaction"
    else
        pass "THP defrag = $defrag"
    fi
else
    info "no transparent huge pages on this kernel"
fi

echo "== CPU frequency (tuning/governor.sh)"
shopt -s nullglob
policies=(/sys/devices/system/cpu/cpufreq/policy*/scaling_governor)
if ((${#policies[@]} == 0)); then
    info "no cpufreq: the kernel does not control the clock here (typical in a VM); nothing to set"
else
    for file in "${policies[@]}"; do
        dir=${file%/scaling_governor}
        gov=$(cat "$file")
        if [ "$gov" = performance ]; then
            pass "${dir##*/} governor = performance"
        else
            warnl "${dir##*/} governor = $gov, recommended performance"
        fi
    done
fi
clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)
if [ "$clocksource" = tsc ]; then
    pass "clocksource = tsc (clock reads without a system call)"
else
    warnl "clocksource = $clocksource, not tsc: every clock read is slower, and the exchange times with the TSC"
fi

echo "== huge pages (tuning/hugepages.sh)"
page_kb=$(hugepage_size_kb)
if [ -z "$page_kb" ]; then
    warnl "this kernel has no huge pages"
else
    free_pages=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
    if ((nr_pages >= want_pages)); then
        pass "vm.nr_hugepages = $nr_pages (>= $want_pages), $free_pages free, $((page_kb / 1024)) MiB each"
    else
        warnl "vm.nr_hugepages = $nr_pages, recommended >= $want_pages ($((want_pages * page_kb / 1024)) MiB): config.prod.json requires huge pages"
    fi
    if hugetlbfs_mounted_at "$mount_dir"; then
        owner=$(stat -c '%U:%G %a' "$mount_dir")
        if [ "$owner" = "$user:$user 770" ]; then
            pass "hugetlbfs mounted at $mount_dir for $user"
        else
            warnl "hugetlbfs at $mount_dir is $owner, recommended $user:$user 770"
        fi
    else
        others=$(awk '$3 == "hugetlbfs" {printf "%s ", $2}' /proc/self/mounts)
        warnl "no hugetlbfs at $mount_dir${others:+ (hugetlbfs mounted at: $others)}"
    fi
fi

echo "== IRQs and CPU isolation (tuning/irq-affinity.sh, kernel command line)"
if pgrep -x irqbalance >/dev/null 2>&1; then
    warnl "irqbalance is running: it moves IRQs back onto the exchange's CPUs unless IRQBALANCE_BANNED_CPULIST names them"
else
    pass "irqbalance is not running"
fi
if [ -z "$cores" ]; then
    info "exchange CPUs unknown: give --cores or --config to check IRQ affinity and isolation"
else
    info "exchange CPUs: $(cpulist_compact "$cores")${config:+ (from $config)}"
    missing=$(cpus_minus "$cores" "$online")
    [ -z "$missing" ] || warnl "exchange CPU(s) $missing are not online (online: $(cpulist_compact "$online"))"
    if [ -z "$(cpus_minus "$online" "$cores")" ]; then
        warnl "the exchange's CPUs are every online CPU: nothing is left for IRQs and the system"
    fi
    bad=()
    for dir in /proc/irq/[0-9]*; do
        irq=${dir##*/}
        list=$(cat "$dir/smp_affinity_list" 2>/dev/null) || continue
        if [ -n "$(cpus_common "$(cpulist_expand "$list")" "$cores")" ]; then
            bad+=("$irq:$list")
        fi
    done
    if ((${#bad[@]})); then
        warnl "${#bad[@]} IRQ(s) may fire on exchange CPUs (irq:cpus): ${bad[*]} (tuning/irq-affinity.sh; managed IRQs refuse at run time: isolcpus=managed_irq,CPUS at boot)"
    else
        pass "no IRQ may fire on the exchange's CPUs"
    fi
    default_list=$(cpumask_to_list "$(cat /proc/irq/default_smp_affinity)")
    if [ -n "$(cpus_common "$default_list" "$cores")" ]; then
        warnl "new IRQs default to CPUs $(cpulist_compact "$default_list"), which include exchange CPUs"
    else
        pass "new IRQs default to CPUs $(cpulist_compact "$default_list")"
    fi
    # Loopback receive processing (multicast to local members of the feed's group) runs on
    # the sending CPU unless Receive Packet Steering sends it elsewhere.
    for file in /sys/class/net/lo/queues/rx-*/rps_cpus; do
        [ -r "$file" ] || continue
        rps_list=$(cpumask_to_list "$(cat "$file")")
        if [ -z "$rps_list" ] || [ -n "$(cpus_common "$rps_list" "$cores")" ]; then
            warnl "lo's receive processing ($file = $(cat "$file")) can run on exchange CPUs: a local feed member's datagrams are received in the engine's softirq (tuning/irq-affinity.sh steers it)"
        else
            pass "lo's receive processing is steered to CPUs $(cpulist_compact "$rps_list")"
        fi
    done
    for what in isolated nohz_full; do
        set_list=$(cpulist_expand "$(cat "/sys/devices/system/cpu/$what" 2>/dev/null || true)")
        not_set=$(cpus_minus "$cores" "$set_list")
        if [ -z "$not_set" ]; then
            pass "exchange CPUs are in $what"
        else
            warnl "exchange CPU(s) $not_set not in $what ($what=$(cpulist_compact "$set_list")): kernel command line, README.md"
        fi
    done
fi
nodes=$(find /sys/devices/system/node -maxdepth 1 -name 'node[0-9]*' 2>/dev/null | wc -l)
info "NUMA nodes: $nodes$( ((nodes > 1)) && printf ' (bind the exchange to the node of its CPUs and NIC: numactl --cpunodebind=N --membind=N)')"

echo "== deployment (make install)"
if id "$user" >/dev/null 2>&1; then
    pass "user $user exists"
else
    warnl "user $user does not exist (make install creates it)"
fi
for f in /usr/local/bin/trading_exchange /usr/local/bin/rtes-stat /etc/systemd/system/rtes.service /etc/rtes/config.json; do
    if [ -e "$f" ]; then pass "$f installed"; else warnl "$f not installed (make install)"; fi
done
if [ -x /usr/local/bin/trading_exchange ] && [ -r /etc/rtes/config.json ]; then
    if check_out=$(/usr/local/bin/trading_exchange --check /etc/rtes/config.json 2>&1); then
        pass "trading_exchange --check /etc/rtes/config.json"
    else
        warnl "trading_exchange --check /etc/rtes/config.json failed: $(printf "%s" "$check_out" | head -n 5)"
    fi
fi

echo "check: $npass PASS, $nwarn WARN, $ninfo INFO (nothing was changed)"
