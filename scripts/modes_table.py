#!/usr/bin/env python3
"""Markdown rows of `duel experiment modes` results (docs/modes.md): one row per
protocol and variant, mean ± std over seeds.  Usage: modes_table.py results.json..."""
import json
import sys

for path in sys.argv[1:]:
    r = json.load(open(path))
    modes = {x["protocol"]: x["modes"] for x in r["runs"]}
    steps = {(x["protocol"], x["variant"]): x["steps"] for x in r["runs"]}
    for s in r["summary"]:
        kl = "n/a" if s["reverse_kl_mean"] is None else f'{s["reverse_kl_mean"]:.3f} ± {s["reverse_kl_std"]:.3f}'
        st = steps[(s["protocol"], s["variant"])] or "-"
        print(f'| {s["protocol"]} | {s["variant"]} | {st} | {s["runs"]} | '
              f'{s["captured_mean"]:.1f} ± {s["captured_std"]:.1f} of {modes[s["protocol"]]} | '
              f'{s["all_modes_runs"]} of {s["runs"]} | '
              f'{100 * s["high_quality_mean"]:.1f} ± {100 * s["high_quality_std"]:.1f} | {kl} |')
