"""Cost of several years as years are added (issue 27).

    python bench/bench_periods.py [children a year]                      the over-time tables, in memory
    python bench/bench_periods.py --pack [children a year] [--data DIR] [--years all|first] [--timeout S]

Without ``--pack``: builds synthetic cohorts in memory (``synth/over_time.make_periods``, no population truth) and
times ``stats.over_time.over_time`` on the first year alone and on all five years: the cost should grow no faster
than the data (five years at most about 5x one year; the added-value bootstrap among flagged children is capped at
a random sample of 20,000, so it grows less). Best of three; the load average is printed with the figures (the
machine is shared).

``--pack``: the board pack (issue 27's done-when: a five-year national cohort of 600,000 children a year runs
``board-pack`` in at most 5x the time of one year). Writes a five-year synthetic folder once with ``measurekit synth
--years 2021/22-2025/26`` (into ``--data``, default /tmp/mk_years_<n>, never the repository), then runs
``measurekit board-pack`` in a fresh process on one year's folder (``--years first``: 2021-22; ``all``: each of the
five, and the ratio against their mean) and on the whole folder (every period read and validated, checked across
periods, protected and audited together, over-time tables, workbook, briefings, EES). Each run's wall time, CPU time
(the child process's user + system: the steadier figure on a shared machine) and peak memory are printed, then the
ratios five years / one year beside the 5x target. Reading and validating are part of every run.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK = ROOT / "indicators" / "rochdale-school-readiness"
YEARS = "2021/22-2025/26"


def timed(cmd: list[str], env: dict) -> dict:
    """``cmd`` in a fresh process: wall and CPU seconds and the child's peak memory (MB)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return {"wall": time.perf_counter() - t, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "rc": os.waitstatus_to_exitcode(status), "out": out}


def pack(n: int, data: Path, which: str, timeout: int) -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), MEASUREKIT_NO_PROGRESS="1")
    py = [sys.executable, "-m", "measurekit"]
    if not (data / ".measurekit.json").exists() or not (data / "2025-26").is_dir():
        r = timed(py + ["synth", "--n", str(n), "--years", YEARS, "--framework", str(FRAMEWORK), "--out", str(data)],
                  env)
        print(f"synthetic folder: 5 x {n:,} children in {r['wall']:.0f} s -> {data}", flush=True)
        if r["rc"] != 0:
            print(r["out"][-2000:])
            return 1
    years = sorted(p.name for p in data.iterdir() if p.is_dir() and p.name[:4].isdigit())
    singles = years[:1] if which == "first" else years
    print(f"board-pack, {n:,} children a year; load average before {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(wall time on a busy machine includes waiting for a core; CPU time does not)", flush=True)
    print(f"{'data':28s} {'wall s':>8s} {'cpu s':>8s} {'peak MB':>8s}  rc", flush=True)
    res = {}
    for label, folder in [*[(y, data / y) for y in singles], ("all five years", data)]:
        out = Path(f"/tmp/mk_bench_periods_pack_{os.getpid()}")
        r = timed(["timeout", str(timeout)] + py + ["board-pack", "--framework", str(FRAMEWORK), "--data", str(folder),
                                                   "--out", str(out)], env)
        res[label] = r
        print(f"{label:28s} {r['wall']:8.1f} {r['cpu']:8.1f} {r['peak_mb']:8.0f}  {r['rc']}", flush=True)
        if r["rc"] != 0:
            print("   " + "\n   ".join(r["out"].splitlines()[-5:]))
            return 1
    five = res["all five years"]
    ones = [res[y] for y in singles]
    for what, one in [(f"one year ({singles[0]})", ones[0])] + (
            [("the mean of the five years alone", {k: sum(o[k] for o in ones) / len(ones) for k in ("wall", "cpu")})]
            if len(ones) > 1 else []):
        print(f"five years / {what}: CPU {five['cpu'] / one['cpu']:.2f}x, wall {five['wall'] / one['wall']:.2f}x "
              "(target <= 5x)")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def over_time_tables(n: int) -> int:
    from _timing import best

    from measurekit.core.paths import BUNDLED_FRAMEWORK
    from measurekit.stats.over_time import over_time
    from measurekit.synth.over_time import make_periods

    t0 = time.perf_counter()
    multi = make_periods(YEARS, n=n, random_state=1, framework=BUNDLED_FRAMEWORK, truth=False)
    print(f"generated 5 x {n:,} children in {time.perf_counter() - t0:.1f} s")
    first = dict(list(multi.cohorts.items())[:1])
    one = best(lambda: over_time(first, framework=multi.framework, repetitions=10_000, n_boot=50))
    five = best(lambda: over_time(multi.cohorts, framework=multi.framework, repetitions=10_000, n_boot=50))
    print(f"over_time, {n:,} children a year: 1 year {one:.2f} s, 5 years {five:.2f} s, ratio {five / one:.2f} "
          f"(target <= 5)   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", nargs="?", type=int, default=None, help="children a year (default 100,000; --pack 600,000)")
    ap.add_argument("--pack", action="store_true", help="time board-pack on one year and on five years")
    ap.add_argument("--data", type=Path, default=None, help="the five-year folder (made once if missing)")
    ap.add_argument("--years", choices=("first", "all"), default="first",
                    help="one-year runs: the first year only, or each of the five (default first)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds allowed to each board-pack run")
    args = ap.parse_args()
    if args.pack:
        n = args.n or 600_000
        return pack(n, args.data or Path(f"/tmp/mk_years_{n}"), args.years, args.timeout)
    return over_time_tables(args.n or 100_000)


if __name__ == "__main__":
    sys.exit(main())
