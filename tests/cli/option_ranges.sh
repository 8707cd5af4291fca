# Every range-limited numeric option of every command (issue #28, item 12a),
# read from the commands' --help: the smallest and the largest allowed value
# pass the parser, and one below the smallest is refused with a message naming
# the option. "Passes the parser" means no range error (an unknown option
# added at the end keeps the command from running).
source "$(dirname "$0")/lib.sh"
python3 - "$DUEL" <<'PY' || fail "range checks (above)"
import re, subprocess, sys
duel = sys.argv[1]
def run(args):
    p = subprocess.run([duel] + args, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr
from concurrent.futures import ThreadPoolExecutor
pool = ThreadPoolExecutor(4)  # about 1 s of start-up per run: the runs overlap
def help_of(path): return run(path + ["--help"])[1]
def subcommands(text):
    part = text.split("Subcommands:")[1] if "Subcommands:" in text else ""
    return [m.group(1) for m in re.finditer(r"^  (\S+)\s", part, re.M)]
helps, nested = {}, []
for c, text in zip(subcommands(help_of([])), pool.map(lambda c: help_of([c]), subcommands(help_of([])))):
    subs = subcommands(text)
    if subs: nested += [(c, s) for s in subs]
    else: helps[(c,)] = text
helps.update(zip(nested, pool.map(lambda cs: help_of(list(cs)), nested)))
commands = [list(c) for c in helps]
jobs, inside_runs = [], []
for cmd in commands:
    lows, highs = [], []
    for m in re.finditer(r"^\s+(?:-\w,)?(--[\w-]+) (INT|FLOAT):(?:INT|FLOAT) in \[(\S+) - (\S+)\]", helps[tuple(cmd)], re.M):
        opt, kind, lo, hi = m.group(1), m.group(2), float(m.group(3)), float(m.group(4))
        fmt = (lambda v: str(int(v))) if kind == "INT" else repr
        below = lo - 1 if kind == "INT" else lo - max(abs(lo), 1e-12) * 0.5
        lows += [opt, fmt(lo)]
        highs += [opt, fmt(hi)]
        jobs.append((cmd, opt, fmt(below)))
    # Every option at its smallest (then largest) value in one run; the unknown option at the end
    # stops duel after CLI11 has validated them all, before any work.
    if lows: inside_runs += [(cmd, lows), (cmd, highs)]
def outside(job):
    cmd, opt, value = job
    rc, out = run(cmd + [opt, value])
    if rc != 2 or not re.search(r"^error: " + re.escape(opt) + r": Value \S+ not in range", out, re.M):
        return f"{' '.join(cmd)} {opt} {value} (below the range) gave exit {rc}: {out.strip()[:200]}"
def inside(job):
    cmd, args = job
    rc, out = run(cmd + args + ["--zz-unknown"])
    if rc != 2 or "not in range" in out:
        return f"{' '.join(cmd + args)} (the bounds) was refused: {out.strip()[:200]}"
bad = [b for b in list(pool.map(outside, jobs)) + list(pool.map(inside, inside_runs)) if b]
print(f"{len(jobs)} options of {len(commands)} commands checked at both bounds and one below")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad or len(jobs) < 30 else 0)
PY
finish
