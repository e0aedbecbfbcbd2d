# shellcheck shell=bash
# Sourced by every tuning script (not run on its own): option handling, --dry-run, the
# values saved for --revert, reporting, and the recommendations that check.sh compares
# the host against, so that the scripts and the check can never disagree.
#
# A script sets TUNING_NAME, defines usage(), sources this file and then calls
# parse_common_option for each argument it does not handle itself.
#
# Saved state: $RTES_TUNING_STATE_DIR/$TUNING_NAME/<key> holds the value <key> had before
# the first change. A second apply keeps the first saved value, so --revert always goes
# back to the host as it was before any tuning; --revert deletes what it restored.

: "${TUNING_NAME:?set TUNING_NAME before sourcing common.sh}"
RTES_TUNING_STATE_DIR=${RTES_TUNING_STATE_DIR:-/var/lib/rtes-tuning}
STATE_DIR="$RTES_TUNING_STATE_DIR/$TUNING_NAME"
DRY_RUN=0
REVERT=0
CHANGED=0
UNCHANGED=0
SKIPPED=0

# The user the exchange runs as (systemd/rtes.service, make install).
RTES_USER=${RTES_USER:-rtes}
# Where hugepages.sh mounts hugetlbfs; systemd/rtes.service points HUGETLB_PATH at it.
# shellcheck disable=SC2034 # read by the scripts that source this file
RTES_HUGEPAGES_MOUNT_DEFAULT=/mnt/rtes-hugepages
# 512 × 2 MiB = 1 GiB: the production profile's 1 M-order pool, three 64 Ki-slot rings and
# the packet buffers fit with room to spare. Size it from HugePages_Free after a start.
# shellcheck disable=SC2034 # read by the scripts that source this file
RTES_HUGEPAGES_COUNT_DEFAULT=512

# Network (and one scheduler) sysctls: key|rule|value|why.
#   min   raise to value when lower; a higher value is left alone
#   max3  for "min default max" triples: raise the third field to value when lower
#   eq    set to exactly value
# shellcheck disable=SC2034 # read by the scripts that source this file
RTES_SYSCTLS=(
    "net.core.rmem_max|min|16777216|largest SO_RCVBUF a socket may ask for; must cover performance.udp_buffer_size (4 MiB in prod) or the kernel silently caps it (raising it past the cap needs CAP_NET_ADMIN, which the service does not have)"
    "net.core.wmem_max|min|16777216|largest SO_SNDBUF: the market-data publisher's send buffer absorbs bursts instead of failing sends"
    "net.core.rmem_default|min|1048576|receive buffer of sockets that do not set one (feed handlers, tools): fewer drops on a burst"
    "net.core.wmem_default|min|1048576|send buffer of sockets that do not set one"
    "net.core.netdev_max_backlog|min|5000|packets a CPU may queue from the NIC before dropping them during a burst"
    "net.core.somaxconn|min|4096|accept backlog: a reconnect storm of clients is not refused"
    "net.ipv4.tcp_max_syn_backlog|min|4096|half-open connections kept during a reconnect storm"
    "net.core.busy_poll|min|50|µs that poll/select/epoll spin on a NIC queue before sleeping (sockets with a NAPI id; io_uring has its own NAPI busy poll)"
    "net.core.busy_read|min|50|µs that a blocking read spins on the NIC queue before sleeping"
    "net.ipv4.tcp_rmem|max3|16777216|TCP receive autotuning ceiling"
    "net.ipv4.tcp_wmem|max3|16777216|TCP send autotuning ceiling"
    "net.ipv4.tcp_slow_start_after_idle|eq|0|keep the congestion window across idle gaps: the first orders after a quiet spell are not throttled"
    "net.ipv4.tcp_autocorking|eq|0|send each small write (an OUCH reply) at once instead of holding it while an earlier packet is still queued"
    "kernel.numa_balancing|eq|0|no NUMA-balancing page faults and migrations under pinned, node-bound threads"
)

say() { printf '%s: %s\n' "$TUNING_NAME" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$TUNING_NAME" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$TUNING_NAME" "$*" >&2
    exit 1
}

# Handles the options every changing script takes; returns 1 for anything else.
parse_common_option() {
    case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --revert) REVERT=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) return 1 ;;
    esac
}

# Changing the host needs root; a dry run only reads.
require_root_unless_dry_run() {
    if ((DRY_RUN == 0)) && [ "$(id -u)" != 0 ]; then
        die "must run as root to change the host (--dry-run shows what would change)"
    fi
}

# Arguments as a shell would need them typed: plain words bare, anything else in '…'.
quote() {
    local arg words=() sq="'"
    for arg in "$@"; do
        if [[ $arg =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then
            words+=("$arg")
        else
            words+=("'${arg//$sq/$sq\\$sq$sq}'")
        fi
    done
    printf '%s' "${words[*]}"
}

# Runs a command, printing it first; in a dry run prints it only.
run() {
    if ((DRY_RUN)); then
        printf '[dry-run] %s\n' "$(quote "$@")"
    else
        printf '+ %s\n' "$(quote "$@")"
        "$@"
    fi
}

# Writes VALUE to PATH (a /proc or /sys file, or a state file); fails if the kernel refuses.
write_value() {
    local path=$1 value=$2
    if ((DRY_RUN)); then
        printf '[dry-run] echo %s > %s\n' "$(quote "$value")" "$(quote "$path")"
    else
        printf '+ echo %s > %s\n' "$(quote "$value")" "$(quote "$path")"
        printf '%s\n' "$value" >"$path"
    fi
}

# What-changed reporting.
report_change() {
    local what=$1 old=$2 new=$3
    if ((DRY_RUN)); then
        say "would change $what: $old -> $new"
    else
        say "changed $what: $old -> $new"
    fi
    CHANGED=$((CHANGED + 1))
}
report_unchanged() {
    say "$*"
    UNCHANGED=$((UNCHANGED + 1))
}
report_skipped() {
    warn "$*"
    SKIPPED=$((SKIPPED + 1))
}
report_summary() {
    local verb=changed
    ((DRY_RUN)) && verb="would change"
    ((REVERT)) && verb=restored
    ((REVERT && DRY_RUN)) && verb="would restore"
    say "$verb $CHANGED, left $UNCHANGED as they were, skipped $SKIPPED$( ((DRY_RUN)) && printf ' (dry run: nothing was changed)')"
}

# Saved state for --revert. Keys are file names (no '/').
state_file() { printf '%s/%s' "$STATE_DIR" "$1"; }
state_has() { [ -f "$(state_file "$1")" ]; }
state_get() { cat "$(state_file "$1")"; }
# Saves KEY's previous VALUE unless an earlier run already saved it.
state_save() {
    local key=$1 value=$2
    if state_has "$key"; then
        return 0
    fi
    if [ ! -d "$STATE_DIR" ] && [ -z "${STATE_DIR_ANNOUNCED:-}" ]; then
        run mkdir -p "$STATE_DIR"
        STATE_DIR_ANNOUNCED=1 # a dry run creates nothing: say it once
    fi
    write_value "$(state_file "$key")" "$value"
}
state_forget() { run rm -f "$(state_file "$1")"; }
# Saved keys, one a line, in name order.
state_keys() {
    [ -d "$STATE_DIR" ] || return 0
    local f
    for f in "$STATE_DIR"/*; do
        [ -f "$f" ] && printf '%s\n' "${f##*/}"
    done
    return 0
}
# After a revert: removes the emptied state directory, and its parent once no script
# has anything saved.
state_cleanup() {
    if [ -d "$STATE_DIR" ] && [ -z "$(state_keys)" ]; then
        run rmdir "$STATE_DIR"
    fi
    if ((DRY_RUN == 0)) && [ -d "$RTES_TUNING_STATE_DIR" ] && [ -z "$(ls -A "$RTES_TUNING_STATE_DIR")" ]; then
        run rmdir "$RTES_TUNING_STATE_DIR"
    fi
}

# The selected value of a sysfs choice file: "always [madvise] never" -> madvise.
sysfs_choice() { sed -n 's/.*\[\([^]]*\)\].*/\1/p' "$1"; }

# CPU lists ("0-2,5") <-> space-separated CPU numbers, and hex masks ("3", "ff,ffffffff").
cpulist_expand() {
    local list=$1 part lo hi c out=()
    [ -n "$list" ] || return 0
    local IFS=,
    for part in $list; do
        if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
            lo=${BASH_REMATCH[1]} hi=${BASH_REMATCH[2]}
            ((lo <= hi)) || return 1
            for ((c = lo; c <= hi; c++)); do out+=("$c"); done
        elif [[ $part =~ ^[0-9]+$ ]]; then
            out+=("$((10#$part))")
        else
            return 1
        fi
    done
    printf '%s\n' "${out[@]}" | sort -n -u | tr '\n' ' ' | sed 's/ $//'
}
# "0 1 2 5" -> "0-2,5"
cpulist_compact() {
    local c start=-1 prev=-1 result=""
    for c in $1; do
        if ((start < 0)); then
            start=$c
        elif ((c != prev + 1)); then
            result+="$( ((start == prev)) && printf '%s' "$start" || printf '%s-%s' "$start" "$prev"),"
            start=$c
        fi
        prev=$c
    done
    ((start >= 0)) && result+="$( ((start == prev)) && printf '%s' "$start" || printf '%s-%s' "$start" "$prev")"
    printf '%s' "$result"
}
cpumask_to_list() {
    local hex=${1//,/} out=() word i=0 bit end
    hex=${hex#0x}
    while [ -n "$hex" ]; do
        end=${#hex}
        if ((end > 8)); then
            word=$((16#${hex:end-8}))
            hex=${hex:0:end-8}
        else
            word=$((16#$hex))
            hex=""
        fi
        for ((bit = 0; bit < 32; bit++)); do
            ((word >> bit & 1)) && out+=("$((i * 32 + bit))")
        done
        i=$((i + 1))
    done
    ((${#out[@]})) && printf '%s\n' "${out[@]}" | sort -n | tr '\n' ' ' | sed 's/ $//'
    return 0
}
cpulist_to_mask() {
    local c max=0 words=() i result=""
    for c in $1; do ((c > max)) && max=$c; done
    for ((i = 0; i <= max / 32; i++)); do words[i]=0; done
    for c in $1; do words[c / 32]=$((words[c / 32] | 1 << (c % 32))); done
    for ((i = max / 32; i >= 0; i--)); do
        result+=$(printf '%08x' "${words[i]}")
        ((i > 0)) && result+=,
    done
    printf '%s' "$result"
}
# Numbers in $1 that are not in $2.
cpus_minus() {
    local c out=()
    for c in $1; do
        [[ " $2 " == *" $c "* ]] || out+=("$c")
    done
    printf '%s' "${out[*]}"
}
# Numbers in both $1 and $2.
cpus_common() {
    local c out=()
    for c in $1; do
        [[ " $2 " == *" $c "* ]] && out+=("$c")
    done
    printf '%s' "${out[*]}"
}
online_cpus() { cpulist_expand "$(cat /sys/devices/system/cpu/online)"; }

# The exchange's CPUs from a configuration file (performance.cores, when pinning is on).
# Exits 3 when the file turns pinning off, 1 on any other problem.
cores_from_config() {
    local config=$1
    [ -r "$config" ] || die "cannot read configuration $config"
    command -v python3 >/dev/null || die "reading --config needs python3; give --cores instead"
    python3 - "$config" <<'EOF'
import json, sys
path = sys.argv[1]
try:
    with open(path) as f:
        perf = json.load(f).get("performance", {})
except (OSError, ValueError) as e:
    sys.exit(f"cannot read {path}: {e}")
if not perf.get("enable_cpu_pinning", False):
    print(f"{path}: performance.enable_cpu_pinning is not true: the exchange pins no CPU", file=sys.stderr)
    sys.exit(3)
cores = perf.get("cores", {})
values = sorted({int(v) for v in cores.values()}) if isinstance(cores, dict) else []
if not values:
    sys.exit(f"{path}: performance.cores names no CPU; give --cores")
print(",".join(str(v) for v in values))
EOF
}

# Hugepage size in kB (2048 on x86-64).
hugepage_size_kb() { awk '/^Hugepagesize:/ {print $2}' /proc/meminfo; }
# Succeeds when a hugetlbfs is mounted at DIR.
hugetlbfs_mounted_at() {
    local dir=$1
    awk -v d="$dir" '$2 == d && $3 == "hugetlbfs" {found = 1} END {exit !found}' /proc/self/mounts
}
