"""Time and peak memory of measurekit at national scale (issue 19's table), one row per workload.

    python bench/bench_national.py [--copies 334] [--data /tmp/mk_national] [--only validate,board_table,...]
                                   [--timeout 1800]

The national cohort is the bundled 3,000-child synthetic cohort tiled ``--copies`` times (334 copies =
1,002,000 children, about 252 MB of CSV) with every identifier made unique per copy; it is written once
to ``--data`` (never into the repository) and reused. Each workload runs in a fresh Python process so
its peak memory (``ru_maxrss`` of the child) is its own.

The main job's growth (issue 30): ``run_3k`` (the bundled cohort), ``run_30k`` (10 copies) and ``run_300k`` (100
copies) run ``measurekit run`` with the default trial sample (every respondent up to 20,000, else a random 20,000), so
the rows show how the whole job's time grows with the number of children. ``--timeout`` bounds each workload (a row
that hits it shows rc 124).
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "synthetic"
FRAMEWORK = ROOT / "indicators" / "rochdale-school-readiness"
ID_COLUMNS = ("child_id", "response_id", "practitioner_id")


def make_national(folder: Path, copies: int) -> Path:
    """Tile the bundled cohort ``copies`` times into ``folder`` (ids suffixed with the copy number)."""
    folder = Path(folder)
    stamp = folder / ".complete"
    if stamp.exists() and stamp.read_text() == str(copies):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for src in sorted(BUNDLED.glob("*.csv")):
        with open(src, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        if src.stem == "small_areas":
            (folder / src.name).write_bytes(src.read_bytes())
            continue
        idx = [header.index(c) for c in ID_COLUMNS if c in header]
        with open(folder / src.name, "w", newline="", encoding="utf-8") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(header)
            for k in range(copies):
                suffix = f"-{k:04d}"
                for r in body:
                    r = list(r)
                    for i in idx:
                        r[i] = r[i] + suffix
                    w.writerow(r)
    stamp.write_text(str(copies))
    return folder


BOARD_TABLE_SNIPPET = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(sys.argv[1]) / "bench"))
from _areas import spread_over_areas
import numpy as np, pandas as pd
import measurekit as mk
from measurekit.data import read_dir
root = Path(sys.argv[1])
fw = mk.load_framework(root / "indicators" / "rochdale-school-readiness")
base = read_dir(root / "data" / "synthetic", framework=fw).analysis_frame()
frame = pd.concat([base] * 200, ignore_index=True)                       # 600,000 children
frame, lookup = spread_over_areas(frame)
mk.board_table(base, framework=fw)            # warm-up on the bundled cohort: imports and caches are not the call's cost
t = time.perf_counter(); c = time.process_time()
table = mk.board_table(frame, framework=fw, lookup=lookup)
print(f"BOARD_TABLE_SECONDS {time.perf_counter() - t:.2f} cpu {time.process_time() - c:.2f} rows {len(table)}")
"""


def timed(cmd: list[str], env=None) -> dict:
    """Run ``cmd`` in a fresh process: wall and CPU seconds and the child's peak memory (MB)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall": time.perf_counter() - t, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "rc": proc.returncode, "out": out}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/tmp/mk_national"))
    ap.add_argument("--copies", type=int, default=334)
    ap.add_argument("--only", default="validate,board_pack,board_table,run,run_3k,run_30k,run_300k")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds allowed to each workload (default 1800)")
    args = ap.parse_args()
    keys = args.only.split(",")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), MEASUREKIT_NO_PROGRESS="1")
    py = [sys.executable]
    needs_big = {"validate", "board_pack"} & set(keys)
    big = make_national(args.data, args.copies) if needs_big else args.data
    run_data = make_national(Path(str(args.data) + "_600k"), 200) if "run" in keys else Path(str(args.data) + "_600k")
    growth = {k: (BUNDLED if c == 1 else make_national(Path(f"{args.data}_{k[4:]}"), c) if k in keys else BUNDLED)
              for k, c in (("run_3k", 1), ("run_30k", 10), ("run_300k", 100))}
    rows = {
        "validate": ("measurekit validate, 1,002,000 children", "15 s, 1 GB",
                     py + ["-m", "measurekit", "validate", str(big)]),
        "board_pack": ("measurekit board-pack, same data", "30 s, 2 GB",
                       py + ["-m", "measurekit", "board-pack", str(ROOT / "indicators" / "rochdale-school-readiness"),
                             "--data", str(big), "--out", "/tmp/mk_bench_pack"]),
        "board_table": ("board table, 600,000 children, 150 areas", "2 s, 1 GB",
                        py + ["-c", BOARD_TABLE_SNIPPET, str(ROOT)]),
        "run": ("measurekit run, 600,000 children", "120 s, 4 GB",
                py + ["-m", "measurekit", "run", "--data", str(run_data), "--framework", str(FRAMEWORK),
                      "--out", "/tmp/mk_bench_run"]),
        **{k: (f"measurekit run, {n} children (trial sample default)", t,
               py + ["-m", "measurekit", "run", "--data", str(growth[k]), "--framework", str(FRAMEWORK),
                     "--out", f"/tmp/mk_bench_{k}"])
           for k, n, t in (("run_3k", "3,000", "5 s"), ("run_30k", "30,000", "-"), ("run_300k", "300,000", "-"))},
    }
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores: figures are only comparable on a quiet machine)")
    print(f"{'workload':45s} {'wall s':>8s} {'cpu s':>8s} {'peak MB':>8s}  target   rc")
    for key in keys:
        label, target, cmd = rows[key]
        r = timed(["timeout", str(args.timeout)] + cmd, env)
        note = ""
        if key == "board_table":
            line = [ln for ln in r["out"].splitlines() if ln.startswith("BOARD_TABLE_SECONDS")]
            note = f"  (the call alone: {line[0].split(' ', 1)[1]})" if line else ""
        print(f"{label:45s} {r['wall']:8.1f} {r['cpu']:8.1f} {r['peak_mb']:8.0f}  {target:8s} {r['rc']}{note}", flush=True)
        if r["rc"] != 0:
            print("   " + "\n   ".join(r["out"].splitlines()[-5:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
