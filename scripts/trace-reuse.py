#!/usr/bin/env python3
"""Reuse profile of a Mooncake trace: how many block references come back
within a given number of other distinct blocks (their LRU stack distance).

LRU at capacity C hits about the references with distance < C; what a
better policy can add must come from the references beyond it. Usage:

  scripts/trace-reuse.py ../shared/data/mooncake-traces/synthetic_trace.jsonl [CAPACITY]
"""
import json
import sys


def main():
    path = sys.argv[1]
    capacity = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
    seq = []
    with open(path) as f:
        for line in f:
            seq.extend(json.loads(line)["hash_ids"])
    n = len(seq)
    # Fenwick tree over reference positions: 1 at each block's latest
    # reference, so a prefix sum counts distinct blocks referenced since.
    tree = [0] * (n + 1)

    def add(i, v):
        i += 1
        while i <= n:
            tree[i] += v
            i += i & -i

    def prefix(i):  # sum over positions [0, i]
        i += 1
        s = 0
        while i > 0:
            s += tree[i]
            i -= i & -i
        return s

    last = {}
    distances = []
    for t, block in enumerate(seq):
        if block in last:
            p = last[block]
            distances.append(prefix(t - 1) - prefix(p))
            add(p, -1)
        last[block] = t
        add(t, 1)
    edges = [0, capacity, capacity * 5 // 4, 2 * capacity, 4 * capacity, float("inf")]
    print(f"{path}: {n} references, {len(distances) / n:.1%} reuses")
    for lo, hi in zip(edges, edges[1:]):
        share = sum(1 for d in distances if lo <= d < hi) / n
        print(f"  distance [{lo}, {hi}): {share:.1%} of references")


if __name__ == "__main__":
    main()
