#!/usr/bin/env bash
# Makes a development CA and certificates for TLS on loopback, with the openssl CLI.
# NOT for production: the CA key sits next to the certificates, unencrypted.
#
#   configs/tls/make-dev-certs.sh OUTPUT_DIR [KEYS_FILE]
#
# Writes into OUTPUT_DIR (created; it must not already hold a ca.pem, so nothing is overwritten):
#   ca.pem, ca.key                 the development CA ("RTES Development CA")
#   server.pem, server.key         CN=localhost, subjectAltName DNS:localhost, IP:127.0.0.1 (serverAuth)
#   client-USER.pem, client-USER.key   one per account of KEYS_FILE (default configs/api_keys.dev.json),
#                                  CN=USER (clientAuth): under mutual TLS the CN names the account
#   expired-client.pem/.key        CN=DEMO1, valid only during 2020-01-01 (expired)
#   expired-server.pem/.key        like server.pem, valid only during 2020-01-01 (expired)
#   other-ca.pem, other-ca.key     a second CA nobody trusts
#   other-client.pem/.key          CN=DEMO1 issued by the other CA
#   other-server.pem/.key          like server.pem, issued by the other CA
# Keys are ECDSA P-256 (fast to make), mode 0600. Then, for example:
#   RTES_TLS_CERT=OUT/server.pem RTES_TLS_KEY=OUT/server.key RTES_CA_CERT=OUT/ca.pem
# Never commit what this writes.
set -euo pipefail

usage() { echo "usage: $0 OUTPUT_DIR [KEYS_FILE]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
out=$1
here=$(cd "$(dirname "$0")" && pwd)
keys_file=${2:-$here/../api_keys.dev.json}
command -v openssl >/dev/null || { echo "make-dev-certs: openssl is not installed (apt-get install openssl)" >&2; exit 1; }
[ -r "$keys_file" ] || { echo "make-dev-certs: cannot read the keys file $keys_file" >&2; exit 1; }
mkdir -p "$out"
[ -e "$out/ca.pem" ] && { echo "make-dev-certs: $out already holds a ca.pem; use an empty directory" >&2; exit 1; }
umask 077

# The usernames of the keys file: every "username": "NAME" (letters, digits; no jq needed).
mapfile -t accounts < <(grep -o '"username"[[:space:]]*:[[:space:]]*"[A-Za-z0-9_.-]*"' "$keys_file" | sed 's/.*"\([^"]*\)"$/\1/')
[ ${#accounts[@]} -gt 0 ] || { echo "make-dev-certs: no usernames in $keys_file" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# A CA: self-signed, ten years.
make_ca() { # name subject
    newkey "$out/$1.key"
    openssl req -new -x509 -key "$out/$1.key" -out "$out/$1.pem" -days 3650 -subj "$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# openssl ca (not x509 -req) so that start and end dates can be given, for the expired ones.
ca_config() { # ca-name
    local dir="$work/$1"
    mkdir -p "$dir"
    : >"$dir/index.txt"
    cat >"$dir/ca.cnf" <<CNF
[ ca ]
default_ca = dev
[ dev ]
database = $dir/index.txt
new_certs_dir = $dir
certificate = $out/$1.pem
private_key = $out/$1.key
rand_serial = yes
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
[ server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[ client ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
}

issue() { # ca-name extensions name CN [startdate enddate]
    local ca=$1 ext=$2 name=$3 cn=$4
    newkey "$out/$name.key"
    openssl req -new -key "$out/$name.key" -subj "/CN=$cn" -out "$work/$name.csr" 2>/dev/null
    local dates=(-days 825)
    if [ $# -ge 6 ]; then dates=(-startdate "$5" -enddate "$6"); fi
    openssl ca -batch -notext -config "$work/$ca/ca.cnf" -extensions "$ext" "${dates[@]}" \
        -in "$work/$name.csr" -out "$out/$name.pem" 2>"$work/$name.err" \
        || { cat "$work/$name.err" >&2; echo "make-dev-certs: could not issue $name" >&2; exit 1; }
}

make_ca ca "/O=RTES/CN=RTES Development CA"
make_ca other-ca "/O=Elsewhere/CN=Another CA"
ca_config ca
ca_config other-ca

issue ca server server localhost
for user in "${accounts[@]}"; do issue ca client "client-$user" "$user"; done
issue ca client expired-client DEMO1 20200101000000Z 20200102000000Z
issue ca server expired-server localhost 20200101000000Z 20200102000000Z
issue other-ca client other-client DEMO1
issue other-ca server other-server localhost

chmod 600 "$out"/*.key
chmod 644 "$out"/*.pem
echo "make-dev-certs: wrote a CA, a server certificate, ${#accounts[@]} client certificates and the negative-test certificates to $out"
