"""The synthetic generator's cost, and a check that a faster generator draws exactly the same data.

Run from a checkout (the code measured is the one ``import measurekit`` finds, e.g. ``PYTHONPATH=$PWD/src``):

    python bench/bench_synth.py bench [--ref OTHER_SRC] [--repeat 3]
    python bench/bench_synth.py check --ref OTHER_SRC

``bench`` prints CPU seconds (user + system, ``resource.getrusage``: the machine may be shared, so wall time is not
the measure) per call of ``make_cohort(300)`` and ``make_cohort(3000, truth=False)``, of the population truth of the
bundled school-readiness framework (a 200,000-child draw: ``synth/cohort.py`` ``_draw_population_truth``, drawn in a
fresh process as on an empty cache, so the first touch of its memory is counted) and of ``measurekit synth --years``
over three academic years (every population draw made, the truth cache off). Each figure is measured in fresh
processes; with ``--ref OTHER_SRC`` (another checkout's ``src`` folder, e.g. the main branch's) the same figures of
that code are measured in the same run, the two interleaved repeat by repeat, so both see the same load. The median
of the repeats is printed, and the load average.

``check`` makes the same data with this code and with ``--ref``'s, each in its own process, and compares them:
every table of ``make_cohort`` (several sizes, seeds and frameworks: both bundled frameworks, the school-readiness
one without its synthetic.yaml, with other sex codes and with an extra declared column, and the "third framework"
renaming of each bundled one that tests/test_third_framework.py makes), compared with
``pd.testing.assert_frame_equal`` exactly (values, dtypes, index and column types); the ground truth (JSON text and
the types of every value); the population truth values of ``_draw_population_truth`` and of
``synth/over_time.py`` ``_draw_population``; and every file ``measurekit synth`` writes (with and without
``--years`` and ``--identifiers``), byte for byte. It exits 1 and names the first differences when anything
differs.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve()


# ------------------------------------------------------------------------------------------- the frameworks used
def _frameworks(work: Path) -> dict[str, str]:
    """Name -> framework folder: the bundled ones and variants made in ``work`` (shared by both codes' runs)."""
    import re

    bundled = {p.parent.name: p.parent for p in sorted((ROOT / "indicators").glob("*/framework.yaml"))}
    school = next(p for p in bundled.values() if "kind: eyfsp" in (p / "framework.yaml").read_text("utf-8"))
    out = {name: str(p) for name, p in bundled.items()}

    def copy(name, edit_framework=None, edit_profile=None, drop_profile=False):
        dest = work / name
        shutil.copytree(school, dest)
        for file, edit in (("framework.yaml", edit_framework), ("synthetic.yaml", edit_profile)):
            if edit is not None:
                text = (dest / file).read_text(encoding="utf-8")
                new = edit(text)
                assert new != text, (name, file)
                (dest / file).write_text(new, encoding="utf-8")
        if drop_profile:
            (dest / "synthetic.yaml").unlink()
        out[name] = str(dest)

    def sex_values(text):
        text = re.sub(r"(\n  - name: sex\n(?:    .*\n)*?    enum:\n)    - F\n    - M\n", r"\1    - G\n    - B\n",
                      text)
        return text.replace("  - value: F\n", "  - value: G\n").replace("  - value: M\n", "  - value: B\n")

    copy("no-profile", drop_profile=True)
    copy("sex-gb", sex_values, lambda t: t.replace("{column: sex, reference: F}", "{column: sex, reference: B}"))
    extra = ("  - name: zz_extra\n    type: integer\n    description: An extra column\n    required: true\n"
             "    enum:\n    - 1\n    - 2\n    - 3\n")
    copy("extra-column", lambda t: t.replace("- name: small_areas\n", extra + "- name: small_areas\n", 1))
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from test_third_framework import _third  # the tests' own renaming (written independently of measurekit)
    finally:
        sys.path.pop(0)
    for name, folder in bundled.items():
        _third(folder, work / f"third-{name}")
        out[f"third-{name}"] = str(work / f"third-{name}")
    return out


# make_cohort cases: (framework name or "*" for every framework, n, seed, keyword arguments)
COHORTS = [("*", 50, 3, {"truth": False}), ("*", 300, 11, {"truth": False}), ("*", 3000, 1, {"truth": False}),
           ("*", 1234, 7, {"truth": False}),
           ("school", 300, 4, {"truth": False, "identifiers": True}),
           ("school", 3000, 5, {"truth": False, "voice_effect": 0.0}),
           ("school", 20000, 9, {"truth": False}),
           ("school", 600, 2, {"truth": True})]
TRUTHS = [(200_000, 1.0), (200_000, 0.0), (20_000, 1.0), (5_000, 0.5)]


def _work_dump(spec: dict) -> None:
    """(In the process of one code) make every case of ``spec`` and pickle the results to ``spec['out']``."""
    from measurekit.cli import main
    from measurekit.synth import cohort as single
    from measurekit.synth import over_time

    out: dict = {"cohorts": {}, "truth": {}, "periods": {}}
    for key, (folder, n, seed, kwargs) in spec["cohorts"].items():
        try:
            c = single.make_cohort(n, seed, framework=folder, **kwargs)
            out["cohorts"][key] = {"tables": c.tables, "truth": c.ground_truth,
                                   "analysis_frame": c.analysis_frame()}
        except Exception as exc:   # an error is a result too: both codes must raise the same one
            out["cohorts"][key] = {"error": f"{type(exc).__name__}: {exc}"}
    school = spec["school"]
    for n, effect in TRUTHS:
        if spec["quick"] and n > 20_000:
            continue
        out["truth"][f"{n}-{effect}"] = single._draw_population_truth(school, effect, n)
    fw = single._framework(school)
    prof = over_time.load_profile(fw)
    plan = over_time._plan(prof, 3)
    for t in range(3):
        out["periods"][t] = over_time._draw_population(prof, plan, t, 1)
    for name, args in spec["cli"].items():
        code = main([*args, "--out", str(Path(spec["cli_out"]) / name)])
        assert code == 0, (name, code)
    with open(spec["out"], "wb") as fh:
        pickle.dump(out, fh)


def _same_types(a, b, where="") -> list[str]:
    """Differences of value or type between two JSON-like values, all the way down."""
    if type(a) is not type(b):
        return [f"{where}: type {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)[:5]}... != {list(b)[:5]}..."]
        return [d for k in a for d in _same_types(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _same_types(x, y, f"{where}[{i}]")]
    if isinstance(a, float) and a != a:
        return [] if b != b else [f"{where}: nan != {b!r}"]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def _compare(mine: dict, ref: dict, mine_dir: Path, ref_dir: Path) -> list[str]:
    import pandas as pd

    problems: list[str] = []
    for key, r in ref["cohorts"].items():
        m = mine["cohorts"][key]
        if "error" in r or "error" in m:
            if r.get("error") != m.get("error"):
                problems.append(f"{key}: error {m.get('error')!r} != {r.get('error')!r}")
            continue
        if list(m["tables"]) != list(r["tables"]):
            problems.append(f"{key}: tables {list(m['tables'])} != {list(r['tables'])}")
            continue
        frames = [(name, m["tables"][name], r["tables"][name]) for name in r["tables"]]
        frames.append(("analysis_frame", m["analysis_frame"], r["analysis_frame"]))
        for name, a, b in frames:
            try:
                pd.testing.assert_frame_equal(a, b, check_exact=True, check_dtype=True, check_index_type=True,
                                              check_column_type=True, check_names=True, check_flags=True)
                if type(a.index) is not type(b.index):
                    raise AssertionError(f"index {type(a.index).__name__} != {type(b.index).__name__}")
            except AssertionError as exc:
                problems.append(f"{key} {name}: {str(exc)[:400]}")
        if json.dumps(m["truth"], sort_keys=True) != json.dumps(r["truth"], sort_keys=True):
            problems.append(f"{key}: ground truth JSON differs")
        problems += [f"{key} truth{d}" for d in _same_types(m["truth"], r["truth"])[:5]]
    for part in ("truth", "periods"):
        for key in ref[part]:
            problems += [f"{part} {key}{d}" for d in _same_types(mine[part][key], ref[part][key])[:5]]
    mine_files = sorted(p.relative_to(mine_dir) for p in mine_dir.rglob("*") if p.is_file())
    ref_files = sorted(p.relative_to(ref_dir) for p in ref_dir.rglob("*") if p.is_file())
    if mine_files != ref_files:
        problems.append(f"synth files: {sorted(set(mine_files) ^ set(ref_files))[:10]}")
    for rel in sorted(set(mine_files) & set(ref_files)):
        if (mine_dir / rel).read_bytes() != (ref_dir / rel).read_bytes():
            problems.append(f"synth file {rel} differs")
    return problems


def _env(src: str | None) -> dict:
    env = dict(os.environ, MEASUREKIT_SYNTH_CACHE="off")
    if src is not None:
        env["PYTHONPATH"] = src
    return env


def check(ref: str, quick: bool = False) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        frameworks = _frameworks(work / "frameworks")
        if quick:       # the bundled frameworks only, and no 200,000 draws (a first look while working)
            frameworks = {k: f for k, f in frameworks.items() if Path(f).parent == ROOT / "indicators"}
        school = frameworks["rochdale-school-readiness"] if "rochdale-school-readiness" in frameworks else next(
            f for n, f in frameworks.items() if "kind: eyfsp" in (Path(f) / "framework.yaml").read_text("utf-8"))
        cohorts = {}
        for which, n, seed, kwargs in COHORTS:
            names = list(frameworks) if which == "*" else [next(k for k, v in frameworks.items() if v == school)]
            for name in names:
                cohorts[f"{name}/{n}/{seed}/{sorted(kwargs.items())}"] = (frameworks[name], n, seed, kwargs)
        cli = {}
        for name, folder in frameworks.items():
            cli[f"{name}-n700"] = ["synth", "--framework", folder, "--n", "700", "--seed", "3"]
            cli[f"{name}-years"] = ["synth", "--framework", folder, "--n", "400", "--seed", "2", "--years",
                                    "2022/23-2024/25"]
        cli["school-identifiers"] = ["synth", "--framework", school, "--n", "900", "--seed", "6", "--identifiers"]
        cli["school-5-years"] = ["synth", "--framework", school, "--n", "300", "--seed", "1", "--years",
                                 "2021/22-2025/26"]
        results = {}
        for who, src in (("mine", None), ("ref", ref)):
            spec = {"cohorts": cohorts, "school": school, "cli": cli, "cli_out": str(work / who), "quick": quick,
                    "out": str(work / f"{who}.pickle")}
            (work / f"{who}.json").write_text(json.dumps(spec), encoding="utf-8")
            subprocess.run([sys.executable, str(HERE), "_dump", str(work / f"{who}.json")], check=True,
                           env=_env(src), cwd=work, stdout=subprocess.DEVNULL)
            with open(work / f"{who}.pickle", "rb") as fh:
                results[who] = pickle.load(fh)
        problems = _compare(results["mine"], results["ref"], work / "mine", work / "ref")
        n_files = sum(1 for p in (work / "ref").rglob("*") if p.is_file())
        errors = sum("error" in r for r in results["ref"]["cohorts"].values())
        print(f"compared {len(cohorts)} make_cohort cases ({errors} of them an error in both), {len(frameworks)} "
              f"frameworks, {len(TRUTHS)} population "
              f"truths, 3 periods' population values and {n_files} files of {len(cli)} synth commands")
        for p in problems[:40]:
            print("DIFFERS:", p)
        print("identical" if not problems else f"{len(problems)} differences")
        return 1 if problems else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- benchmark
_BENCH_CODE = r"""
import os, resource, sys, json, tempfile
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
what, school, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
from measurekit.synth import cohort as single
fw = single._framework(school)
if what.startswith("make_cohort"):
    n = int(what.split("_")[-1])
    single.make_cohort(n, 0, framework=fw, truth=False)       # warm: imports, caches
    t = cpu()
    for k in range(reps):
        single.make_cohort(n, k + 1, framework=fw, truth=False)
    print(json.dumps((cpu() - t) / reps))
elif what == "truth":
    single._draw_population_truth(school, 1.0, 2000, fw)      # warm: imports (the 200,000 draw itself is fresh)
    t = cpu()
    single._draw_population_truth(school, 1.0, 200_000, fw)
    print(json.dumps(cpu() - t))
elif what == "years":
    from measurekit.cli import main
    main(["synth", "--framework", school, "--n", "300", "--seed", "9", "--out", tempfile.mkdtemp() + "/w"])
    t = cpu()
    main(["synth", "--framework", school, "--n", "3000", "--seed", "1", "--years", "2022/23-2024/25",
          "--out", tempfile.mkdtemp() + "/y"])
    print(json.dumps(cpu() - t))
"""

CASES = [("make_cohort_300", "make_cohort(300) (truth=False)", 20),
         ("make_cohort_3000", "make_cohort(3000, truth=False)", 5),
         ("truth", "population truth, 200,000 children (fresh process)", 1),
         ("years", "synth --years (3 periods of 3,000; cache off)", 1)]


def bench(ref: str | None, repeat: int, only: list[str] | None = None) -> None:
    school = next(str(p.parent) for p in sorted((ROOT / "indicators").glob("*/framework.yaml"))
                  if "kind: eyfsp" in p.read_text("utf-8"))
    codes = [("this code", None)] + ([(f"ref {ref}", ref)] if ref else [])
    print(f"load average before: {os.getloadavg()}")
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for what, _title, reps in CASES:
            if only and what not in only:
                continue
            for _ in range(repeat):
                for label, src in codes:          # interleaved: both codes see the same load
                    run = subprocess.run([sys.executable, "-c", _BENCH_CODE, what, school, str(reps)], env=_env(src),
                                         cwd=tmp, capture_output=True, text=True, check=True)
                    figures.setdefault((what, label), []).append(json.loads(run.stdout.strip().splitlines()[-1]))
    for what, title, _ in CASES:
        if only and what not in only:
            continue
        line = f"{title:55s}"
        for label, _src in codes:
            xs = figures[(what, label)]
            line += f"  {label}: {statistics.median(xs):7.3f} s (runs {', '.join(f'{x:.3f}' for x in xs)})"
        if ref:
            a, b = (statistics.median(figures[(what, lab)]) for lab, _ in codes)
            line += f"  ratio {a / b:.2f}"
        print(line)
    print(f"load average after: {os.getloadavg()}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--ref", help="another checkout's src folder, measured in the same run")
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--only", nargs="*", choices=[c[0] for c in CASES], help="measure only these cases")
    c = sub.add_parser("check")
    c.add_argument("--ref", required=True, help="another checkout's src folder (e.g. the main branch's)")
    c.add_argument("--quick", action="store_true", help="the bundled frameworks only, no 200,000-child draw")
    d = sub.add_parser("_dump")
    d.add_argument("spec")
    args = p.parse_args(argv)
    if args.cmd == "bench":
        bench(args.ref, args.repeat, args.only)
        return 0
    if args.cmd == "check":
        return check(args.ref, args.quick)
    _work_dump(json.loads(Path(args.spec).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
