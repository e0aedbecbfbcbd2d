#!/usr/bin/env python3
"""Writes a synthetic TotalView-ITCH 5.0 day file (2-byte big-endian length before each
message) for rtes-itch-replay's rate benchmark: N order-flow messages for AAPL and MSFT
(adds, executions, cancels, deletes, replaces, about the mix of a real day: half adds; at
most about 5,000 orders open, so an exchange's order pool and token share hold it), one
ignored message (S, R, H, P, I, ...) per 20, timestamps 1 µs apart from 09:30.
Usage: make-itch.py OUT N [--gzip]"""
import gzip, random, struct, sys

if len(sys.argv) < 3 or not sys.argv[2].isdigit() or int(sys.argv[2]) < 1 or sys.argv[3:] not in ([], ["--gzip"]):
    sys.exit("usage: make-itch.py OUT N [--gzip]   (N: how many order-flow messages, a whole number of at least 1)")
out, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
stocks = [(1, b"AAPL    ", 2_300_000), (2, b"MSFT    ", 4_200_000)]
open_orders = []  # (ref, locate, shares)
index = {}
ref = 0
t = (9 * 3600 + 30 * 60) * 1_000_000_000
chunks = []

def frame(m):
    chunks.append(struct.pack(">H", len(m)) + m)

def header(kind, locate):
    return kind + struct.pack(">HH", locate, 0) + t.to_bytes(6, "big")

def take(i):
    o = open_orders[i]
    open_orders[i] = open_orders[-1]
    open_orders.pop()
    return o

for k in range(n):
    t += 1000
    if k % 20 == 19:
        frame(header(b"S", 0) + b"Q")
        continue
    r = rnd.random()
    if (r < 0.5 or len(open_orders) < 100) and len(open_orders) <= 5_000:
        locate, stock, mid = stocks[rnd.randrange(2)]
        ref += 1
        side = rnd.choice((b"B", b"S"))
        price = mid + (-1 if side == b"B" else 1) * rnd.randrange(1, 200) * 100
        shares = rnd.randrange(1, 10) * 100
        frame(header(b"A", locate) + struct.pack(">Q", ref) + side + struct.pack(">I", shares) + stock + struct.pack(">I", price))
        open_orders.append((ref, locate, shares, side, price))
    elif r < 0.6:
        i = rnd.randrange(len(open_orders))
        o, locate, shares, side, price = open_orders[i]
        x = min(shares, 100)
        frame(header(b"E", locate) + struct.pack(">QIQ", o, x, k))
        if x == shares: take(i)
        else: open_orders[i] = (o, locate, shares - x, side, price)
    elif r < 0.7:
        i = rnd.randrange(len(open_orders))
        o, locate, shares, side, price = open_orders[i]
        if shares > 100:
            frame(header(b"X", locate) + struct.pack(">QI", o, 100))
            open_orders[i] = (o, locate, shares - 100, side, price)
        else:
            frame(header(b"D", locate) + struct.pack(">Q", o))
            take(i)
    elif r < 0.9:
        o, locate, shares, side, price = take(rnd.randrange(len(open_orders)))
        frame(header(b"D", locate) + struct.pack(">Q", o))
    else:
        i = rnd.randrange(len(open_orders))
        o, locate, shares, side, price = open_orders[i]
        ref += 1
        price2 = price + (-100 if side == b"B" else 100)
        frame(header(b"U", locate) + struct.pack(">QQII", o, ref, shares, price2))
        open_orders[i] = (ref, locate, shares, side, price2)

data = b"".join(chunks)
if len(sys.argv) > 3 and sys.argv[3] == "--gzip":
    with gzip.open(out, "wb", compresslevel=6) as f: f.write(data)
else:
    with open(out, "wb") as f: f.write(data)
print(f"{out}: {n} messages, {len(data)} bytes uncompressed, {len(open_orders)} orders open at the end")
