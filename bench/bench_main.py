"""Speed of the main job (issue 30). Run: python bench/bench_main.py [--repeat 3] [--digest FILE]

`measurekit run` on the bundled cohort (3,000 children, 1,892 responses) as an analyst starts it: a new Python
process each time, so importing measurekit, pandas, scipy ... is counted. Prints, for each repeat and for the best
one, the wall time and the CPU time of the process (user + system, children included), the machine's load average
before and after (2 cores: a load above ~1 means other work shares the cores, so the wall time is inflated and
only the CPU time compares between runs), the time of each step of the best run, and the target:
at most 5 s wall on a quiet 2-core machine.

The steps marked ``apart`` (reliability, fairness, added value) run in worker processes beside the board table when
a core is idle (``pipeline/workers.py``; ``--workers on`` forces them, ``off`` forbids them). From the CPU time of
each step the benchmark then prints the critical path: the CPU time of the main process alone plus the overlapping
steps' CPU time spread over two cores, or the chain of steps run one after the other beside the workers in the
main process when that is longer, which is what the wall time would be on a quiet 2-core machine (on a busy one the
wall time says little).

``--digest FILE`` also writes the SHA-256 of every CSV the run wrote (path relative to the output folder, one per
line) and says whether every repeat wrote the same bytes: compare the file of two versions of measurekit with
``diff`` to check that a speed-up changed no published number.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_WALL = 5.0
STEP = re.compile(r"^-> (?P<name>.+?) \.\.\.\n\s+done in (?P<s>[\d.]+) s"
                  r"(?: \(CPU (?P<cpu>[\d.]+) s(?:, (?P<where>[^)]*))?\))?", re.M)


def csv_digests(out: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every CSV under ``out``."""
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.csv"))}


def one_run(out: Path, workers: str = "auto") -> tuple[float, float, str]:
    """(wall s, CPU s of the child process and its workers, its console output) of one ``measurekit run`` into
    ``out``; ``workers``: MEASUREKIT_WORKERS for the run (pipeline/workers.py)."""
    env = dict(os.environ, MEASUREKIT_NO_PROGRESS="1", MEASUREKIT_WORKERS=workers)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "measurekit", "run", "--out", str(out)], capture_output=True,
                          text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"measurekit run failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="number of runs (default 3); the best wall time counts")
    ap.add_argument("--digest", type=Path, help="write the SHA-256 of every CSV of the run to this file")
    ap.add_argument("--workers", default="auto", choices=["auto", "on", "off"],
                    help="MEASUREKIT_WORKERS for the runs: auto (default: worker processes when a core is idle), on "
                         "(always: the critical path below then estimates the wall time on idle cores), off")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    runs, digests = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            out = Path(tmp) / f"out{i}"
            wall, cpu, text = one_run(out, args.workers)
            runs.append((wall, cpu, text))
            digests.append(csv_digests(out))
            print(f"run {i + 1}: wall {wall:5.2f} s, CPU {cpu:5.2f} s", flush=True)
    load1 = os.getloadavg()
    wall, cpu, text = min(runs)
    print(f"\nmain job (measurekit run, bundled cohort), best of {len(runs)}: wall {wall:.2f} s, CPU {cpu:.2f} s "
          f"(target: wall <= {TARGET_WALL:.0f} s on a quiet 2-core machine; "
          f"{'met' if wall <= TARGET_WALL else 'not met'} here)")
    print(f"load average (1, 5, 15 min) before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} cores"
          + ("  -- busy machine: compare CPU times, not wall times" if max(load0[0], load1[0]) > 1.0 else ""))
    steps = [(m["name"], float(m["s"]), float(m["cpu"]) if m["cpu"] else None, m["where"] or "")
             for m in STEP.finditer(text)]
    if steps:
        print("steps of the best run (wall s and CPU s; steps in worker processes, and those run beside them, "
              "overlap):")
        for name, s, c, where in steps:
            print(f"  {s:5.1f}  {'' if c is None else f'{c:5.1f}'}  {name}{f'  ({where})' if where else ''}")
        if all(c is not None for _, _, c, _ in steps):
            apart = [c for _, _, c, where in steps if where]
            serial = cpu - sum(apart)              # start-up (imports), the steps in the main process alone, the rest
            cores = min(2, os.cpu_count() or 1)
            # the steps beside the workers run one after the other in the main process: one chain, which the
            # overlap cannot beat (the workers run at a lower priority, so the main process keeps a core for it)
            chain = sum(c for _, _, c, where in steps if where.startswith("beside"))
            overlap = max(sum(apart) / cores, max(apart), chain) if apart else 0.0
            print(f"  {'':5}  {serial - sum(c for _, _, c, w in steps if not w):5.1f}  start-up (imports) and the rest")
            print(f"critical path from the CPU times (what the wall time would be on {cores} idle cores): "
                  f"{serial + overlap:.2f} s = {serial:.2f} s in the main process alone + {overlap:.2f} s for the "
                  f"{len(apart)} overlapping steps ({sum(apart):.2f} s CPU on {cores} cores, {chain:.2f} s of it one "
                  f"after the other in the main process; target {TARGET_WALL:.0f} s)")
    same = all(d == digests[0] for d in digests)
    print(f"{len(digests[0])} CSVs written; every repeat wrote the same bytes: {'yes' if same else 'NO'}")
    if args.digest:
        args.digest.write_text("".join(f"{h}  {p}\n" for p, h in digests[0].items()), encoding="utf-8")
        print(f"CSV digests written to {args.digest}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
