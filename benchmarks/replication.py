#!/usr/bin/env python3
"""Replication cost (issue 13): Enter Order -> Accepted wire-to-wire and throughput with
durability.replication none, async and sync side by side in one run, the primary and the
standby in two network namespaces joined by a veth link, the link's round trip measured with
ping in the same run, and the standby's lag under load.

Layout (root; everything created here is deleted at the end, whatever happens):
  namespace P: the primary trading_exchange and rtes-loadgen (over P's loopback)
  namespace S: the standby trading_exchange
  veth P:10.231.0.1/24 <-> S:10.231.0.2/24: the replication link (nothing else crosses it)

Every mode runs with durability.mode sync (an answer waits for the local journal) on a
journal in /dev/shm (tmpfs: the fdatasync floor is near zero, so what differs is replication),
replication.sync_ack as --sync-ack says (default durable). The variants (--variants) are
interleaved (none, async, sync, ..., none, ...) --rounds times, so drift on a shared host hits
them alike:
  none, async, sync   durability.replication so (replication.yield_us 0, the default)
  sync-y200           sync with replication.yield_us 200 (the replication threads yield 200 µs
                      after a turn that moved something before they block)
  sync-received       sync with replication.sync_ack received

Per mode and round:
  latency     rtes-loadgen, 1 connection, closed loop window 1, --count orders (resting
              buys/sells), warm-up 10 %: order -> Accepted p50/p90/p99/p99.9/max (µs)
  throughput  rtes-loadgen, 4 connections, closed loop window 16, --throughput-count requests:
              requests/s achieved, and the primary's rtes_replication_lag_records / lag_us
              sampled every 20 ms meanwhile

Writes the replication section of --out (default benchmarks/results/failover.json; other
fields kept). Run from the repository root after `swift build -c release`:

  benchmarks/replication.py [--bin .build/release] [--rounds 2] [--count 20000]

Not a test: no outcome depends on the numbers. Bounded: every wait has a limit; about two
minutes with the defaults.
"""
import argparse, json, os, platform, re, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

P, S = f"rtesrp{os.getpid()}", f"rtesrs{os.getpid()}"
P_ADDR, S_ADDR = "10.231.0.1", "10.231.0.2"

def sh(*cmd, check=True, capture=False):
    r = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout if capture else r

def netns_up():
    sh("ip", "netns", "add", P)
    sh("ip", "netns", "add", S)
    sh("ip", "netns", "exec", P, "ip", "link", "add", "rvp", "type", "veth", "peer", "name", "rvs", "netns", S)
    for ns, dev, addr in ((P, "rvp", P_ADDR), (S, "rvs", S_ADDR)):
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{addr}/24", "dev", dev)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", dev, "up")
        sh("ip", "netns", "exec", ns, "ip", "route", "add", "239.0.0.0/8", "dev", "lo")

def netns_down():
    for ns in (P, S):
        sh("ip", "netns", "del", ns, check=False)

def ping_rtt(count=200):
    out = sh("ip", "netns", "exec", P, "ping", "-q", "-c", str(count), "-i", "0.005", S_ADDR, capture=True)
    m = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", out)
    return {"min_us": float(m.group(1)) * 1000, "avg_us": float(m.group(2)) * 1000, "max_us": float(m.group(3)) * 1000,
            "mdev_us": float(m.group(4)) * 1000, "count": count}

def metrics(ns, port):
    r = subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "-m", "1", f"http://127.0.0.1:{port}/metrics"],
                       capture_output=True, text=True)
    values = {}
    for line in r.stdout.splitlines():
        if line and not line.startswith("#"):
            parts = line.split()
            try:
                values[parts[0]] = float(parts[-1])
            except (ValueError, IndexError):
                pass
    return values

def wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise RuntimeError(f"not within {seconds} s: {what}")

# label -> (durability.replication, replication.sync_ack or None for --sync-ack, replication.yield_us)
VARIANTS = {"none": ("none", None, 0), "async": ("async", None, 0), "sync": ("sync", None, 0),
            "sync-y200": ("sync", None, 200), "sync-received": ("sync", "received", 0)}

def config(base, root, name, variant, role, default_ack):
    mode, sync_ack, yield_us = VARIANTS[variant]
    sync_ack = sync_ack or default_ack
    c = json.loads(json.dumps(base))
    c["exchange"].update({"tcp_port": 8888, "metrics_port": 8080, "udp_port": 9999, "bind_address": "127.0.0.1"})
    c["durability"].update({"mode": "sync", "replication": mode, "directory": f"{root}/{name}", "preallocate": "fallocate"})
    c["replication"] = {"role": role, "listen_address": P_ADDR, "listen_port": 9100, "primary": f"{P_ADDR}:9100",
                        "sync_ack": sync_ack, "yield_us": yield_us}
    c.pop("fix", None)
    c.pop("leadership", None)
    c["performance"]["hugepages"] = "off"
    c["risk"]["max_orders_per_second"] = 10_000_000
    c["risk"]["max_notional_per_client"] = 100_000_000_000
    path = f"{root}/{name}.json"
    with open(path, "w") as f:
        json.dump(c, f)
    return path

def loadgen(args, connections, window, count, prefix):
    cmd = ["ip", "netns", "exec", P, f"{args.bin}/rtes-loadgen", "--address", "127.0.0.1:8888", "--connections", str(connections),
           "--window", str(window), "--count", str(count), "--warmup", str(count // 10), "--mix", "100,0,0",
           "--max-resting", "16384", "--no-hgrm", "--no-cleanup", "--token-prefix", prefix, "--drain-timeout", "10"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    out = r.stdout
    row = re.search(r"order → Accepted\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", out)
    rate = re.search(r"(\d+) requests/s achieved", out)
    if not row or not rate:
        raise RuntimeError(f"rtes-loadgen said:\n{out}\n{r.stderr}")
    keys = ["count", "p50_us", "p90_us", "p99_us", "p99_9_us", "max_us"]
    result = dict(zip(keys, [int(row.group(1))] + [float(row.group(i)) for i in range(2, 7)]))
    result["requests_per_second"] = int(rate.group(1))
    result["exit_status"] = r.returncode
    return result

def one(args, base, root, mode, round_, prefix):
    processes = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTES_")}
    env["RTES_API_KEYS_FILE"] = "configs/api_keys.dev.json"
    run_root = f"{root}/{mode}-{round_}"
    os.makedirs(run_root)
    def start(ns, name, role):
        path = config(base, run_root, name, mode, role, args.sync_ack)
        p = subprocess.Popen(["ip", "netns", "exec", ns, f"{args.bin}/trading_exchange", path, "--counters", f"{run_root}/{name}.counters"],
                             env=env, stdout=open(f"{run_root}/{name}.log", "w"), stderr=subprocess.STDOUT)
        processes.append(p)
        return p
    try:
        primary = start(P, "primary", "primary")
        wait(lambda: primary.poll() is not None or metrics(P, 8080).get("rtes_gateway_listening") == 1, 60, "the primary listening")
        if VARIANTS[mode][0] != "none":
            standby = start(S, "standby", "standby")
            wait(lambda: standby.poll() is not None or metrics(P, 8080).get("rtes_replication_connected") == 1, 60, "the standby connected")
        if primary.poll() is not None:
            raise RuntimeError("the primary exited")
        latency = loadgen(args, 1, 1, args.count, f"L{prefix}")
        samples, stop = [], threading.Event()
        def sample():
            while not stop.is_set():
                m = metrics(P, 8080)
                if "rtes_replication_lag_records" in m:
                    samples.append((m["rtes_replication_lag_records"], m.get("rtes_replication_lag_us", 0)))
                stop.wait(0.02)
        sampler = threading.Thread(target=sample, daemon=True)
        if VARIANTS[mode][0] != "none":
            sampler.start()
        throughput = loadgen(args, 4, 16, args.throughput_count, f"T{prefix}")
        stop.set()
        if VARIANTS[mode][0] != "none":
            sampler.join(5)
        lag = None
        if samples:
            records = sorted(s[0] for s in samples)
            micros = sorted(s[1] for s in samples)
            lag = {"samples": len(samples), "records_p50": records[len(records) // 2], "records_max": records[-1],
                   "us_p50": micros[len(micros) // 2], "us_max": micros[-1]}
        return {"mode": mode, "round": round_, "latency": latency, "throughput": {
            "requests_per_second": throughput["requests_per_second"], "accepted_p50_us": throughput["p50_us"],
            "accepted_p99_us": throughput["p99_us"]}, "lag_under_load": lag}
    except Exception:
        for name in ("primary", "standby"):
            try:
                print(f"--- {name}.log (end)\n" + open(f"{run_root}/{name}.log").read()[-2000:], file=sys.stderr)
            except OSError:
                pass
        raise
    finally:
        for p in reversed(processes):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.send_signal(signal.SIGKILL)
                    p.wait()

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=".build/release")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--count", type=int, default=20_000, help="orders of the latency run (window 1)")
    parser.add_argument("--throughput-count", type=int, default=80_000, help="requests of the throughput run (4 connections, window 16)")
    parser.add_argument("--sync-ack", default="durable", choices=["durable", "received"])
    parser.add_argument("--variants", default="none,async,sync,sync-y200,sync-received",
                        help="comma-separated, from: " + ", ".join(VARIANTS) + " (none is always run: the ratios are against it)")
    parser.add_argument("--out", default="benchmarks/results/failover.json")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"replication.py: unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    if "none" not in variants:
        variants.insert(0, "none")
    for tool in ("trading_exchange", "rtes-loadgen"):
        if not os.access(f"{args.bin}/{tool}", os.X_OK):
            sys.exit(f"replication.py: {args.bin}/{tool} is not there: swift build -c release first (or pass --bin)")
    if os.geteuid() != 0:
        sys.exit("replication.py: needs root (network namespaces)")
    with open("configs/config.dev.json") as f:
        base = json.load(f)
    started = time.monotonic()
    root = tempfile.mkdtemp(prefix="rtes-replication-bench-", dir="/dev/shm")
    runs = []
    try:
        netns_up()
        rtt_before = ping_rtt()
        print(f"veth RTT before: {json.dumps(rtt_before)}", flush=True)
        for round_ in range(1, args.rounds + 1):
            for i, mode in enumerate(variants):
                r = one(args, base, root, mode, round_, f"{round_ % 10}{i}{os.getpid() % 10}")
                runs.append(r)
                print(json.dumps(r), flush=True)
        rtt_after = ping_rtt()
        print(f"veth RTT after: {json.dumps(rtt_after)}", flush=True)
    finally:
        netns_down()
        shutil.rmtree(root, ignore_errors=True)
    summary = {}
    for mode in variants:
        mine = [r for r in runs if r["mode"] == mode]
        med = lambda f: statistics.median(f(r) for r in mine)
        summary[mode] = {k: med(lambda r, k=k: r["latency"][k]) for k in ("p50_us", "p90_us", "p99_us", "p99_9_us", "max_us")}
        summary[mode]["requests_per_second"] = med(lambda r: r["throughput"]["requests_per_second"])
        lags = [r["lag_under_load"] for r in mine if r["lag_under_load"]]
        if lags:
            summary[mode]["lag_records_max"] = max(l["records_max"] for l in lags)
            summary[mode]["lag_us_max"] = max(l["us_max"] for l in lags)
            summary[mode]["lag_us_p50"] = statistics.median(l["us_p50"] for l in lags)
    base_p50 = summary["none"]["p50_us"]
    rtt = statistics.mean([rtt_before["avg_us"], rtt_after["avg_us"]])
    ratios = {mode: {"p50": round(summary[mode]["p50_us"] / base_p50, 3),
                     "p99": round(summary[mode]["p99_us"] / summary["none"]["p99_us"], 3),
                     "throughput": round(summary[mode]["requests_per_second"] / summary["none"]["requests_per_second"], 3)}
              for mode in variants if mode != "none"}
    added = summary["sync"]["p50_us"] - base_p50 if "sync" in summary else float("nan")
    result = {
        "command": " ".join(sys.argv), "binaries": args.bin, "sync_ack": args.sync_ack, "rounds": args.rounds,
        "variants": {v: dict(zip(("replication", "sync_ack", "yield_us"), VARIANTS[v])) for v in variants},
        "seconds": round(time.monotonic() - started, 1),
        "layout": "primary + rtes-loadgen in netns P, standby in netns S, veth P<->S (replication only); durability.mode sync, journal on /dev/shm",
        "pinning": "none (performance.enable_cpu_pinning false, threading_mode shared; rtes-loadgen --idle block)",
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
                 "load_average_at_end": os.getloadavg()},
        "veth_rtt": {"before": rtt_before, "after": rtt_after},
        "summary_median_of_rounds": summary, "ratios_vs_none": ratios,
        "goal": {"sync_added_p50_us": round(added, 1), "limit_us": round(rtt + 5, 1),
                 "holds": added <= rtt + 5, "statement": "sync adds <= 1 RTT of the link + 5 us at p50 (vs none)"},
        "per_run": runs,
    }
    try:
        with open(args.out) as f:
            existing = json.load(f)
    except (OSError, ValueError):
        existing = {}
    existing["replication"] = result
    with open(args.out, "w") as f:
        json.dump(existing, f, indent=2)
    print(json.dumps({"summary": summary, "ratios": ratios, "goal": result["goal"]}, indent=2))

if __name__ == "__main__":
    main()
