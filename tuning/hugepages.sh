#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Reserves huge pages (vm.nr_hugepages) and mounts a hugetlbfs the exchange's user can
# use. The exchange backs its order pool, rings and packet buffers with them: one TLB
# entry covers 2 MiB instead of 4 KiB, so the hot path takes no TLB misses. The
# production profile says "hugepages": "require" and will not start without them.
#
# Reserving at run time may get fewer pages than asked once memory is fragmented: the
# script says so. For a guaranteed reservation put hugepages=N on the kernel command line.
set -euo pipefail

TUNING_NAME=hugepages
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

count=$RTES_HUGEPAGES_COUNT_DEFAULT
mount_dir=$RTES_HUGEPAGES_MOUNT_DEFAULT
user=$RTES_USER
do_mount=1

usage() {
    cat <<EOF
usage: $0 [COUNT | --count COUNT] [--mount DIR | --no-mount] [--user USER] [--dry-run] [--revert]
Reserves COUNT huge pages (default $RTES_HUGEPAGES_COUNT_DEFAULT, of $(($(hugepage_size_kb) / 1024)) MiB each) and mounts hugetlbfs at
DIR (default $RTES_HUGEPAGES_MOUNT_DEFAULT) owned by USER (default $RTES_USER), mode 0770.
A reservation already at least COUNT is left alone. Saves what it changes under $STATE_DIR.
  --dry-run   print every command it would run, change nothing
  --revert    unmount what it mounted and restore the previous reservation
EOF
}

while (($#)); do
    if parse_common_option "$1"; then
        shift
        continue
    fi
    case "$1" in
    --count | --mount | --user)
        (($# >= 2)) || die "$1 needs a value"
        case "$1" in
        --count) count=$2 ;;
        --mount) mount_dir=$2 ;;
        --user) user=$2 ;;
        esac
        shift 2
        ;;
    --no-mount)
        do_mount=0
        shift
        ;;
    [0-9]*)
        count=$1
        shift
        ;;
    *)
        usage >&2
        die "unknown option $1"
        ;;
    esac
done
[[ $count =~ ^[0-9]+$ ]] || die "COUNT must be a whole number, not $count"
[[ $mount_dir == /* ]] || die "--mount needs an absolute path, not $mount_dir"
require_root_unless_dry_run

page_kb=$(hugepage_size_kb)
[ -n "$page_kb" ] || die "this kernel has no huge pages (no Hugepagesize in /proc/meminfo)"

if ((REVERT)); then
    [ -n "$(state_keys)" ] || say "nothing to revert: no saved state in $STATE_DIR"
    if state_has mount; then
        dir=$(state_get mount)
        if hugetlbfs_mounted_at "$dir"; then
            run umount "$dir" || die "cannot unmount $dir (is the exchange still running?)"
            report_change "hugetlbfs at $dir" mounted unmounted
        else
            report_unchanged "$dir is no longer mounted"
        fi
        state_forget mount
    fi
    if state_has created-dir; then
        dir=$(state_get created-dir)
        if [ -d "$dir" ]; then
            run rmdir "$dir" || warn "could not remove $dir"
        fi
        state_forget created-dir
    fi
    if state_has vm.nr_hugepages; then
        old=$(state_get vm.nr_hugepages)
        cur=$(sysctl -n vm.nr_hugepages)
        if [ "$cur" = "$old" ]; then
            report_unchanged "vm.nr_hugepages is already $old"
        else
            run sysctl -q -w "vm.nr_hugepages=$old"
            report_change vm.nr_hugepages "$cur" "$old"
        fi
        state_forget vm.nr_hugepages
    fi
    state_cleanup
    report_summary
    exit 0
fi

# 1. The reservation.
cur=$(sysctl -n vm.nr_hugepages)
if ((cur >= count)); then
    report_unchanged "vm.nr_hugepages = $cur (>= $count, ok)"
else
    state_save vm.nr_hugepages "$cur"
    run sysctl -q -w "vm.nr_hugepages=$count"
    if ((DRY_RUN)); then
        report_change vm.nr_hugepages "$cur" "$count"
    else
        got=$(sysctl -n vm.nr_hugepages)
        report_change vm.nr_hugepages "$cur" "$got"
        if ((got < count)); then
            warn "the kernel reserved only $got of $count huge pages (memory is fragmented); reserve at boot with hugepages=$count on the kernel command line"
        fi
    fi
fi

# 2. The hugetlbfs mount.
if ((do_mount)); then
    if ! uid=$(id -u "$user" 2>/dev/null) || ! gid=$(id -g "$user" 2>/dev/null); then
        report_skipped "user $user does not exist yet (make install creates it): hugetlbfs not mounted; run this again afterwards, or pass --user root or --no-mount"
    elif hugetlbfs_mounted_at "$mount_dir"; then
        owner=$(stat -c '%u:%g %a' "$mount_dir")
        if [ "$owner" = "$uid:$gid 770" ]; then
            report_unchanged "hugetlbfs is mounted at $mount_dir for $user (ok)"
        else
            report_skipped "hugetlbfs is already mounted at $mount_dir but owned $owner, not $uid:$gid 770; left alone"
        fi
    else
        if [ ! -d "$mount_dir" ]; then
            state_save created-dir "$mount_dir"
            run mkdir -p "$mount_dir"
        fi
        state_save mount "$mount_dir"
        run mount -t hugetlbfs -o "uid=$uid,gid=$gid,mode=0770,pagesize=${page_kb}K" rtes-hugepages "$mount_dir"
        report_change "hugetlbfs at $mount_dir" "not mounted" "mounted for $user, mode 0770"
    fi
fi
report_summary
if ((CHANGED && !DRY_RUN)); then
    say "runtime only; to keep it across reboots put 'vm.nr_hugepages = $count' in /etc/sysctl.d/60-rtes.conf (or hugepages=$count on the kernel command line), and this line in /etc/fstab:"
    say "  rtes-hugepages $mount_dir hugetlbfs uid=${uid:-UID},gid=${gid:-GID},mode=0770,pagesize=${page_kb}K 0 0"
fi
