#!/usr/bin/env bash
# What `make install` and `make uninstall` run (README.md beside this file). Idempotent:
# a second install changes nothing and says so. Needs root.
#
#   systemd/install.sh install   [--from DIR] [--prefix PREFIX] [--root DIR]
#   systemd/install.sh uninstall [--prefix PREFIX] [--root DIR] [--purge]
#
# install:   PREFIX/bin/trading_exchange and its tools (rtes-stat, rtes-keys, rtes-journal,
#            rtes-leader, rtes-client, rtes-feed, rtes-dropcopy, rtes-admin) from DIR (default .build/release),
#            the unit as /etc/systemd/system/rtes.service (checked with systemd-analyze),
#            /etc/rtes/config.json from configs/config.prod.json only if absent,
#            /etc/rtes/api_keys.json (mode 0600, the unit's LoadCredential=) only if
#            absent: one account, OPER1 (firm OPER), with a random password hashed by
#            rtes-keys, the password in /etc/rtes/initial_password (mode 0600); an
#            /etc/rtes/environment template (mode 0600) only if absent, system user and
#            group rtes if missing, and `systemctl daemon-reload` when systemd is running.
# uninstall: stops and disables the service (when systemd runs), removes binaries and
#            unit; --purge also removes /etc/rtes, /var/lib/rtes and the user and group.
# --root DIR: install into (or uninstall from) the tree under DIR, as a package build's
#            DESTDIR does: every file goes to DIR/…, the unit still names PREFIX/bin; no
#            user or group is created or removed, systemctl is not run, root is not needed.
#            The unit is verified against the binaries under DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

action=${1:-}
[ $# -eq 0 ] || shift
from=.build/release
prefix=/usr/local
purge=0
root=
while (($#)); do
    case "$1" in
    --from | --prefix | --root)
        (($# >= 2)) || {
            echo "install: $1 needs a value" >&2
            exit 2
        }
        case "$1" in
        --from) from=$2 ;;
        --prefix) prefix=$2 ;;
        --root) root=$2 ;;
        esac
        shift 2
        ;;
    --purge)
        purge=1
        shift
        ;;
    *)
        echo "install: unknown option $1" >&2
        exit 2
        ;;
    esac
done

if [ -n "$root" ]; then
    [[ $root == /* ]] || {
        echo "install: --root must be an absolute directory, not $root" >&2
        exit 2
    }
    [ -d "$root" ] || {
        echo "install: --root $root is not a directory: create it first" >&2
        exit 2
    }
    root=${root%/}
fi
user=rtes
binaries=(trading_exchange rtes-stat rtes-keys rtes-journal rtes-leader rtes-client rtes-feed rtes-dropcopy rtes-admin)
unit=$root/etc/systemd/system/rtes.service
etc=$root/etc/rtes
bindir=$root$prefix/bin

say() { printf '%s: %s\n' "${action:-install}" "$*"; }
die() {
    printf '%s: error: %s\n' "${action:-install}" "$*" >&2
    exit 1
}
run() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
    "$@"
}
# Under --root the host's systemd is none of our business.
systemd_running() { [ -z "$root" ] && [ -d /run/systemd/system ]; }

[ -n "$root" ] || [ "$(id -u)" = 0 ] || die "must run as root (sudo make $action), or give --root DIR"

do_install() {
    local b src dst rendered
    for b in "${binaries[@]}"; do
        [ -x "$from/$b" ] || die "$from/$b is missing: build it first (swift build -c release --product $b)"
    done
    [[ $prefix == /* ]] || die "--prefix must be absolute, not $prefix"

    # 1. The user and group the service runs as.
    if [ -n "$root" ]; then
        say "--root $root: user and group $user not created (create them on the target host)"
    else
        if getent group "$user" >/dev/null; then
            say "group $user exists"
        else
            run groupadd --system "$user"
        fi
        if id -u "$user" >/dev/null 2>&1; then
            say "user $user exists"
        else
            run useradd --system --gid "$user" --home-dir /nonexistent --no-create-home \
                --shell /usr/sbin/nologin --comment "RTES trading exchange" "$user"
        fi
    fi

    # 2. Binaries.
    [ -d "$bindir" ] || run install -d -m 0755 "$bindir"
    for b in "${binaries[@]}"; do
        src="$from/$b" dst="$bindir/$b"
        if cmp -s "$src" "$dst"; then
            say "$dst is up to date"
        else
            run install -m 0755 "$src" "$dst"
        fi
    done

    # 3. Configuration: never overwrite an operator's file.
    [ -d "$etc" ] || run install -d -m 0755 "$etc"
    if [ -e "$etc/config.json" ]; then
        say "$etc/config.json exists: kept (the shipped profile is configs/config.prod.json)"
    else
        run install -m 0644 configs/config.prod.json "$etc/config.json"
    fi
    # The accounts file the unit hands over with LoadCredential= (RTES_API_KEYS_FILE=%d/api_keys).
    if [ -e "$etc/api_keys.json" ]; then
        say "$etc/api_keys.json exists: kept"
    else
        # No password from the repository ever guards an installed exchange: one account
        # with a random password, hashed by rtes-keys (read from its standard input).
        password=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 10) || true
        [ ${#password} -eq 10 ] || die "could not draw a random password from /dev/urandom"
        secret=$(printf '%s\n' "$password" | "$from/rtes-keys" hash) || die "rtes-keys hash failed"
        (
            umask 077
            printf '{ "accounts": [\n  { "username": "OPER1", "secret": "%s", "firm": "OPER" }\n] }\n' "$secret" >"$etc/api_keys.json"
            printf '%s\n' "$password" >"$etc/initial_password"
        )
        say "wrote $etc/api_keys.json: one account, OPER1 (firm OPER); its password is in $etc/initial_password (mode 0600). Add accounts with rtes-keys hash (systemd/README.md)"
    fi
    if [ -e "$etc/environment" ]; then
        say "$etc/environment exists: kept"
    else
        say "writing a template $etc/environment (mode 0600, secrets go here)"
        (
            umask 077
            cat >"$etc/environment" <<'EOF'
# Environment of rtes.service, read by systemd (as root) before the exchange starts.
# Keep this file root-owned, mode 0600. Secrets come only from the environment, never from
# config.json. The accounts file comes from /etc/rtes/api_keys.json through the unit's
# LoadCredential=; set RTES_API_KEYS_FILE here only to use another file (readable by user
# rtes, e.g. root:rtes 0640).
#RTES_API_KEYS_FILE=/etc/rtes/other_api_keys.json
#RTES_LOG_LEVEL=info
#RTES_LOG_FORMAT=journald   # or json, text (docs/OPERATIONS.md, "Logs")
# Overrides of config.json settings, e.g. on a bigger host with isolated CPUs 2-4:
#RTES_PERFORMANCE_CORES_GATEWAY=2
#RTES_PERFORMANCE_CORES_ENGINE=3
#RTES_PERFORMANCE_CORES_MARKET_DATA=4
EOF
        )
    fi

    # 4. The unit, pointing at PREFIX.
    rendered=$(mktemp)
    sed "s|/usr/local/bin/|$prefix/bin/|g" systemd/rtes.service >"$rendered"
    [ -d "${unit%/*}" ] || run install -d -m 0755 "${unit%/*}"
    if cmp -s "$rendered" "$unit"; then
        say "$unit is up to date"
    else
        run install -m 0644 "$rendered" "$unit"
    fi
    rm -f "$rendered"
    if command -v systemd-analyze >/dev/null; then
        local out checked=$unit
        if [ -n "$root" ]; then
            # verify wants ExecStart's binary where the unit says: a copy pointing under DIR.
            checked=$(mktemp --suffix=.service)
            sed "s|$prefix/bin/|$bindir/|g" "$unit" >"$checked"
        fi
        if ! out=$(systemd-analyze verify "$checked" 2>&1) || [ -n "$out" ]; then
            printf '%s\n' "$out" >&2
            [ "$checked" = "$unit" ] || rm -f "$checked"
            die "systemd-analyze verify $unit failed"
        fi
        [ "$checked" = "$unit" ] || rm -f "$checked"
        say "systemd-analyze verify $unit: ok"
    fi

    # 5. Tell systemd.
    if systemd_running; then
        run systemctl daemon-reload
        say "start it with: systemctl enable --now rtes (prepare the host first: tuning/README.md)"
    elif [ -n "$root" ]; then
        say "--root $root: skipped systemctl daemon-reload (run it on the target host)"
    else
        say "systemd is not running on this machine (no /run/systemd/system): skipped systemctl daemon-reload"
    fi
}

do_uninstall() {
    local b
    if systemd_running; then
        if systemctl is-active --quiet rtes.service; then run systemctl stop rtes.service; fi
        if systemctl is-enabled --quiet rtes.service 2>/dev/null; then run systemctl disable rtes.service; fi
    fi
    for b in "${binaries[@]}"; do
        if [ -e "$bindir/$b" ]; then run rm -f "$bindir/$b"; else say "$bindir/$b is not installed"; fi
    done
    if [ -e "$unit" ]; then run rm -f "$unit"; else say "$unit is not installed"; fi
    if systemd_running; then
        run systemctl daemon-reload
    elif [ -n "$root" ]; then
        say "--root $root: skipped systemctl daemon-reload"
    else
        say "systemd is not running on this machine: skipped systemctl daemon-reload"
    fi
    if ((purge)); then
        [ ! -e "$etc" ] || run rm -rf "$etc"
        [ ! -e "$root/var/lib/rtes" ] || run rm -rf "$root/var/lib/rtes"
        if [ -n "$root" ]; then
            say "--root $root: user and group $user left alone"
        else
            if id -u "$user" >/dev/null 2>&1; then run userdel "$user"; fi
            if getent group "$user" >/dev/null; then run groupdel "$user"; fi
        fi
    else
        say "kept $etc and user $user (make uninstall PURGE=1 removes them too)"
    fi
}

case "$action" in
install) do_install ;;
uninstall) do_uninstall ;;
*)
    echo "usage: $0 install [--from DIR] [--prefix PREFIX] [--root DIR] | uninstall [--prefix PREFIX] [--root DIR] [--purge]" >&2
    exit 2
    ;;
esac
