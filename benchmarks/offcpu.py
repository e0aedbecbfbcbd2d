#!/usr/bin/env python3
# Off-CPU episodes of one thread, from a sched_switch trace: how often and how long the thread
# was switched out, and which task took its CPU (the first to run after it).
#
#   perf record -e sched:sched_switch -C 1 -- .build/release/marketdata-bench --latency-only --rates 100000 --seconds 3
#   perf script -F time,event,trace | ./offcpu.py [THREAD_NAME]      # default bench-engine-md
import sys, re, collections

thread = sys.argv[1] if len(sys.argv) > 1 else 'bench-engine-md'
out=None; durs=[]; bywho=collections.defaultdict(list); cur=[]
for l in sys.stdin:
    m=re.match(r'\s*([\d.]+):\s+sched:sched_switch:\s+prev_comm=(.*?) prev_pid=\d+ .*?next_comm=(.*?) next_pid',l)
    if not m: continue
    t=float(m.group(1)); prev=m.group(2); nxt=m.group(3)
    if prev==thread: out=t; cur=[nxt]
    elif out is not None: cur.append(nxt)
    if nxt==thread and out is not None:
        d=(t-out)*1e6; durs.append(d); bywho[cur[0] if cur else '?'].append(d); out=None
durs.sort()
print('off-CPU episodes',len(durs),'total ms %.2f'%(sum(durs)/1000), 'p50 %.0f us p99 %.0f us max %.0f us'%(durs[len(durs)//2],durs[int(.99*len(durs))],durs[-1]))
for k,v in sorted(bywho.items(),key=lambda kv:-sum(kv[1]))[:6]: print('  %-20s n=%4d total=%.2f ms max=%.0f us'%(k,len(v),sum(v)/1000,max(v)))
