#!/usr/bin/env python3
"""Failover time of a hot standby (issue 13): over N runs, etcd, a primary and a standby
`trading_exchange` (async replication, leadership through etcd, lease TTL --ttl) on loopback;
the primary is killed with SIGKILL and a client tries the standby's order-entry port every
2 ms (connect, SoupBinTCP login, one OUCH Enter Order) until an order is Accepted.

Per run it records, on this host's CLOCK_MONOTONIC:
  kill_to_accepted_ms    kill -9 of the primary -> the first Accepted from the promoted standby
  expiry_to_accepted_ms  the leader key's deletion (lease expiry, seen on an etcd watch)
                         -> the same Accepted: what issue 13 calls the failover time
  kill_to_expiry_ms      the rest of the lease (its last renewal was up to a third of the TTL
                         before the kill) plus etcd's expiry check (up to 500 ms)

Writes --out (default benchmarks/results/failover.json). Run from the repository root after
`make build` (or pass --bin .build/debug):

  benchmarks/failover.py [--runs 20] [--ttl 2] [--bin .build/release]

Everything it starts (etcd, both exchanges) is killed and its files removed at the end of
each run, whatever happens. Loopback only. Not a test: no outcome depends on the times.
"""
import argparse, base64, json, os, platform, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time, urllib.request

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def now_ms():
    return time.monotonic_ns() / 1e6

def packet(kind, payload=b""):
    return struct.pack(">H", len(payload) + 1) + kind + payload

def login_request(user, password):
    return packet(b"L", user.ljust(6).encode() + password.ljust(10).encode() + b" " * 10 + b"0".rjust(20))

def enter_order(token):
    body = (b"O" + token.ljust(14).encode() + b"B" + struct.pack(">I", 100) + b"AAPL".ljust(8) + struct.pack(">I", 2_290_000)
            + struct.pack(">I", 99_998) + b"    " + b"Y" + b"A" + b"N" + struct.pack(">I", 0) + b"N" + b" ")
    assert len(body) == 49
    return packet(b"U", body)

def read_packet(sock, buffer):
    while len(buffer) < 2 or len(buffer) < 2 + struct.unpack(">H", buffer[:2])[0]:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    length = struct.unpack(">H", buffer[:2])[0]
    kind, payload = buffer[2:3], bytes(buffer[3:2 + length])
    del buffer[:2 + length]
    return kind, payload

def try_order(port, token, timeout=2.0):
    """One attempt: connect, log in as DEMO1, enter an order. True once Accepted."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(login_request("DEMO1", "demo1pass"))
            buffer = bytearray()
            while True:
                kind, payload = read_packet(sock, buffer)
                if kind == b"A":
                    break
                if kind == b"J":
                    return False
            sock.sendall(enter_order(token))
            while True:
                kind, payload = read_packet(sock, buffer)
                if kind == b"S" and payload[:1] == b"A":
                    return True
                if kind == b"S" and payload[:1] == b"J":
                    return False
    except (OSError, ConnectionError):
        return False

def config(base, root, name, ports, role, primary_replication, etcd_port, key_prefix, ttl):
    c = json.loads(json.dumps(base))
    c["exchange"].update({"tcp_port": ports["tcp"], "metrics_port": ports["metrics"], "udp_port": ports["udp"]})
    c["market_data"].update({"retransmit_port": ports["retransmit"], "snapshot_port": ports["snapshot"]})
    c["durability"].update({"mode": "async", "replication": "async", "directory": f"{root}/{name}",
                            "preallocate": "fallocate"})
    c["replication"] = {"role": role, "listen_port": ports["replication"], "primary": f"127.0.0.1:{primary_replication}"}
    c["leadership"] = {"endpoints": f"127.0.0.1:{etcd_port}", "key_prefix": key_prefix, "candidate_name": name,
                       "lease_ttl_seconds": ttl}
    c.pop("fix", None)
    c["performance"]["hugepages"] = "off"
    path = f"{root}/{name}.json"
    with open(path, "w") as f:
        json.dump(c, f)
    return path

def metric(port, name):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    return None

def wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise RuntimeError(f"not within {seconds} s: {what}")

def watch_deletion(etcd_port, key, seen, ready):
    """Streams etcd's watch on the leader key; records when its deletion arrives."""
    body = json.dumps({"create_request": {"key": base64.b64encode(key.encode()).decode()}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{etcd_port}/v3/watch", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            ready.set()
            for line in response:
                event = json.loads(line)
                for e in event.get("result", {}).get("events", []):
                    if e.get("type") == "DELETE":
                        seen.append(now_ms())
                        return
    except Exception:
        ready.set()

def one_run(args, base, run):
    root = tempfile.mkdtemp(prefix=f"rtes-failover-bench-{run}-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    processes = []
    try:
        etcd_port, peer_port = free_port(), free_port()
        etcd = subprocess.Popen([args.etcd, "--name", "bench", "--data-dir", f"{root}/etcd",
                                 "--listen-client-urls", f"http://127.0.0.1:{etcd_port}", "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                                 "--listen-peer-urls", f"http://127.0.0.1:{peer_port}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
                                 "--initial-cluster", f"bench=http://127.0.0.1:{peer_port}", "--initial-cluster-state", "new"],
                                stdout=open(f"{root}/etcd.log", "w"), stderr=subprocess.STDOUT)
        processes.append(etcd)
        wait(lambda: metric(etcd_port, "etcd_server_has_leader") == 1, 20, "etcd healthy")
        key_prefix = f"/rtes-bench-{run}"
        a = {k: free_port() for k in ("tcp", "metrics", "udp", "retransmit", "snapshot", "replication")}
        b = {k: free_port() for k in ("tcp", "metrics", "udp", "retransmit", "snapshot", "replication")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("RTES_")}
        env["RTES_API_KEYS_FILE"] = "configs/api_keys.dev.json"
        def start(name, ports, role):
            path = config(base, root, name, ports, role, a["replication"], etcd_port, key_prefix, args.ttl)
            p = subprocess.Popen([f"{args.bin}/trading_exchange", path, "--counters", f"{root}/{name}.counters"], env=env,
                                 stdout=open(f"{root}/{name}.log", "w"), stderr=subprocess.STDOUT)
            processes.append(p)
            return p
        primary = start("primary-a", a, "primary")
        wait(lambda: primary.poll() is not None or try_order(a["tcp"], "WARM"), 60, "the primary accepting an order")
        if primary.poll() is not None:
            raise RuntimeError("the primary exited")
        standby = start("standby-b", b, "standby")
        wait(lambda: standby.poll() is not None or metric(b["metrics"], "rtes_replication_connected") == 1, 60, "the standby connected")
        if standby.poll() is not None:
            raise RuntimeError("the standby exited")
        seen, ready = [], threading.Event()
        watcher = threading.Thread(target=watch_deletion, args=(etcd_port, f"{key_prefix}/leader", seen, ready), daemon=True)
        watcher.start()
        ready.wait(10)
        time.sleep(args.settle)  # lets the lease's renewal phase fall anywhere in its third of the TTL
        killed = now_ms()
        primary.send_signal(signal.SIGKILL)
        primary.wait()
        attempts = 0
        while True:
            attempts += 1
            if try_order(b["tcp"], f"FO{run}"):
                accepted = now_ms()
                break
            if now_ms() - killed > 60_000:
                raise RuntimeError("the standby accepted no order within 60 s of the kill")
            time.sleep(0.002)
        watcher.join(5)
        expiry = seen[0] if seen else None
        return {"run": run, "kill_to_accepted_ms": round(accepted - killed, 1),
                "expiry_to_accepted_ms": round(accepted - expiry, 1) if expiry else None,
                "kill_to_expiry_ms": round(expiry - killed, 1) if expiry else None, "attempts": attempts}
    except Exception:
        for name in ("etcd", "primary-a", "standby-b"):
            try:
                print(f"--- {name}.log (end)\n" + open(f"{root}/{name}.log").read()[-2000:], file=sys.stderr)
            except OSError:
                pass
        raise
    finally:
        for p in reversed(processes):
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        shutil.rmtree(root, ignore_errors=True)

def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--ttl", type=int, default=2, help="leadership.lease_ttl_seconds")
    parser.add_argument("--bin", default=".build/release", help="where trading_exchange is")
    parser.add_argument("--etcd", default="/usr/bin/etcd")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds between the standby connecting and the kill")
    parser.add_argument("--out", default="benchmarks/results/failover.json")
    args = parser.parse_args()
    for path in (f"{args.bin}/trading_exchange", args.etcd):
        if not os.access(path, os.X_OK):
            sys.exit(f"failover.py: {path} is not there: build first (make build) or pass --bin / --etcd")
    with open("configs/config.dev.json") as f:
        base = json.load(f)
    runs = []
    for run in range(1, args.runs + 1):
        result = one_run(args, base, run)
        runs.append(result)
        print(json.dumps(result), flush=True)
    summary = {}
    for field in ("kill_to_accepted_ms", "expiry_to_accepted_ms", "kill_to_expiry_ms"):
        values = [r[field] for r in runs if r[field] is not None]
        summary[field] = {"n": len(values), "min": min(values, default=None), "p50": percentile(values, 50),
                          "p90": percentile(values, 90), "p99": percentile(values, 99), "max": max(values, default=None)}
    result = {
        "benchmark": "failover", "ttl_seconds": args.ttl, "runs": args.runs, "binaries": args.bin,
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
                 "load_average_at_end": os.getloadavg()},
        "etcd": subprocess.run([args.etcd, "--version"], capture_output=True, text=True).stdout.split("\n")[0],
        "command": " ".join(sys.argv), "summary": summary, "per_run": runs,
        "goal": "failover (lease expiry -> first order accepted) <= 2 x TTL at p99",
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    # Other benchmarks' sections of the file (benchmarks/replication.py's "replication") are kept.
    try:
        with open(args.out) as f:
            existing = json.load(f)
    except (OSError, ValueError):
        existing = {}
    kept = {k: v for k, v in existing.items() if k not in result}
    if existing.get("binaries") and existing.get("binaries") != args.bin:
        # An earlier run with other binaries (debug) stays beside this one.
        kept["failover_" + os.path.basename(existing["binaries"].rstrip("/"))] = {k: existing[k] for k in result if k in existing}
    with open(args.out, "w") as f:
        json.dump({**result, **kept}, f, indent=2)
    print(json.dumps(summary, indent=2))

if __name__ == "__main__":
    main()
