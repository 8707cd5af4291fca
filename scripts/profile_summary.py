#!/usr/bin/env python3
"""Sums a Chrome trace of LibTorch's profiler (duel-bench --profile, or
torch.autograd.profiler in Python) by operator, in self time: each event's
duration minus that of the events nested inside it on the same thread.
Prints the top operators with their share of the total.

    scripts/profile_summary.py trace.json [--top 25]
"""
import argparse, collections, json

p = argparse.ArgumentParser()
p.add_argument("trace")
p.add_argument("--top", type=int, default=25)
a = p.parse_args()
with open(a.trace) as f:
    data = json.load(f)
events = data["traceEvents"] if isinstance(data, dict) else data
by_thread = collections.defaultdict(list)
for e in events:
    if e.get("ph") == "X" and "dur" in e:
        by_thread[e.get("tid")].append(e)
self_us = collections.Counter()
calls = collections.Counter()
for evs in by_thread.values():
    evs.sort(key=lambda e: (e["ts"], -e["dur"]))
    stack = []  # [end, name, child time]
    def close(until):
        while stack and stack[-1][0] <= until:
            end, name, child, dur = stack.pop()
            self_us[name] += dur - child
            if stack:
                stack[-1][2] += dur
    for e in evs:
        close(e["ts"])
        stack.append([e["ts"] + e["dur"], e["name"], 0, e["dur"]])
        calls[e["name"]] += 1
    close(float("inf"))
total = sum(self_us.values())
print(f"total self time {total / 1e6:.2f} s over {len(by_thread)} thread(s)")
for name, us in self_us.most_common(a.top):
    print(f"{100 * us / total:6.1f} %  {us / 1e6:8.3f} s  {calls[name]:7d} calls  {name}")
