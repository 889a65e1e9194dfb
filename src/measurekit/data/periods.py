"""Several periods in one data folder: one subfolder per academic year, each a normal data folder.

Layout (docs/data.md, "Several periods")::

    DATA/
      2021-22/   children.csv, small_areas.csv, eyfsp.csv, asq.csv, ... (one reception cohort)
      2022-23/   ...
      ground_truth.json, README.md   (optional, beside the period folders; no data file at the top)

A folder is a multi-period folder when it holds at least one subfolder named like an academic year
(``2021-22``, also ``2021_22`` or the EES time period ``202122``) and no data file (CSV or Excel) of its own.
Each period is read and validated by the one reader (``data.read_and_validate``), with the same config and
framework; its problems keep their code, row, column, value and rule, their file named inside its period folder
(``2023-24/eyfsp.csv``); the population's plausible ages (``population.age_years``) are checked at the period's
end (31 August of its second year, :func:`reference_date`), not today, so an old period of young people keeps
their ages of that year (a folder of one year alone is checked against today). Then the checks across periods,
each a problem with a code:

* ``period_bad_name`` (error): a subfolder that is not an academic year;
* ``period_duplicate`` (error): two folders for the same academic year (``2021-22`` and ``202122``);
* ``period_gap`` (warning): academic years missing between the first and last period (the statistics over time
  place each period at its year, so a gap is allowed: the EYFSP was not collected in 2019/20 and 2020/21);
* ``period_missing_file`` (error): a table present in other periods is missing in this one (the series of an
  indicator from it would have a hole that is not in the data);
* ``period_child_overlap`` (error): a child in the population table of two periods (one reception cohort per
  period: a child belongs to one);
* ``period_eyfsp_twice`` (error): a child with an EYFSP record in two periods (the profile is completed once,
  at the end of reception);
* ``period_folder`` (error, from the one-year reader): a folder of years given where one year's files are expected
  (``measurekit link``, ``read_dir``): they take one period's folder (``run``, ``board-pack``, ``over-time`` and
  ``validate`` take the folder of years; ``run --period`` picks the year its one-year analyses use:
  ``period_not_found`` when the folder has no such year, ``period_option_one_year`` with a one-year folder);
* ``period_boundary_change`` (warning): a small area whose area (neighbourhood) in the lookup differs from the
  previous period's: a boundary change, reported so a trend across it is read with care, never refused.

The checks on children, the EYFSP and the lookup use the tables the framework declares (its population table,
its id column, its lookup, its table of kind ``eyfsp`` whatever its name); a framework without a table of kind
``eyfsp`` gets every check but ``period_eyfsp_twice``.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.problems import InputError, ProblemReport

_PERIOD = re.compile(r"^(\d{4})[-_]?(\d{2})$")
_DATA_SUFFIXES = (".csv", ".xlsx", ".xls", ".tsv", ".txt")


@dataclasses.dataclass
class Periods:
    """A multi-period data set: ``cohorts`` (academic year label ``2023/24`` -> ``Cohort``, in time order), the
    validation ``report`` of every period and across periods, and ``ground_truth`` (the top-level
    ground_truth.json of a synthetic data set, else None)."""

    cohorts: dict
    report: ProblemReport
    ground_truth: dict | None = None
    folders: dict | None = None      # label -> the period's folder

    @property
    def labels(self) -> list[str]:
        return list(self.cohorts)

    @property
    def framework(self):
        return next(iter(self.cohorts.values())).framework


def period_label(name: str) -> str | None:
    """``2021-22``, ``2021_22`` or ``202122`` -> ``2021/22``; None for anything else (including 2021-23)."""
    m = _PERIOD.match(name)
    if m is None:
        return None
    start, end = int(m.group(1)), int(m.group(2))
    if (start + 1) % 100 != end:
        return None
    return f"{start}/{end:02d}"


def is_period_folder(folder) -> bool:
    """True when ``folder`` holds period subfolders and no data file of its own."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    entries = list(folder.iterdir())
    if any(e.is_file() and e.suffix.lower() in _DATA_SUFFIXES for e in entries):
        return False
    return any(e.is_dir() and period_label(e.name) is not None for e in entries)


def _period_folders(folder: Path, report: ProblemReport) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for e in sorted(folder.iterdir()):
        if not e.is_dir() or e.name.startswith((".", "_")):
            continue
        label = period_label(e.name)
        if label is None:
            report.add("period_bad_name", f"Folder {e.name!r} is not an academic year: name each period's folder "
                       "YYYY-YY (e.g. 2023-24), or move the folder out of the data folder.", file=e.name,
                       value=e.name, rule="one folder per academic year named YYYY-YY")
            continue
        if label in found:
            report.add("period_duplicate", f"Folders {found[label].name!r} and {e.name!r} are both the academic year "
                       f"{label}: keep one folder per period.", file=e.name, value=e.name,
                       rule="one folder per academic year")
            continue
        found[label] = e
    ordered = dict(sorted(found.items()))
    starts = [int(k[:4]) for k in ordered]
    for a, b in zip(starts, starts[1:]):
        if b - a > 1:
            missing = ", ".join(f"{y}/{(y + 1) % 100:02d}" for y in range(a + 1, b))
            label = f"{b}/{(b + 1) % 100:02d}"
            report.add("period_gap", f"No folder for {missing} between {a}/{(a + 1) % 100:02d} and {label}: the "
                       "series have a gap there (trends place each period at its own year).", file=ordered[label].name,
                       value=missing, rule="consecutive academic years", severity="warning")
    return ordered


def reference_date(label: str) -> dt.date:
    """The date a period's ages are measured on: the end of the academic year (31 August of its second year;
    2021/22 -> 2022-08-31). A person aged 25 in 2021/22 is checked against the ages the framework declares
    as at that date, not as at today."""
    return dt.date(int(label[:4]) + 1, 8, 31)


# the date the one reader's age check (data/validation.py) measures ages on; None: today
_AGES_ON: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("measurekit_ages_on", default=None)


@contextlib.contextmanager
def ages_on(date: dt.date | None):
    """Within the block, the population's plausible ages (``population.age_years``) are checked on ``date`` (a
    period's :func:`reference_date`) instead of today; ``None``: today. Only the age check moves: future dates are
    still dates after today."""
    token = _AGES_ON.set(date)
    try:
        yield
    finally:
        _AGES_ON.reset(token)


def ages_reference() -> dt.date | None:
    """The date ages are checked on inside :func:`ages_on` (None outside it: today)."""
    return _AGES_ON.get()


def _in_period(report: ProblemReport, folder_name: str) -> list:
    return [dataclasses.replace(p, file=f"{folder_name}/{p.file}" if p.file else folder_name) for p in report]


def _present_tables(src: dict) -> set[str]:
    return {name for name, s in src.items() if s.path is not None}


def read_and_validate_periods(folder, *, config=None, framework=None) -> Periods:
    """Read and validate every period of a multi-period folder once, then check across periods.

    Returns ``Periods``; its ``cohorts`` hold only the periods that read without errors, and ``report`` every
    problem (``report.ok`` is False when any period or a cross-period check has errors). Files are only read.
    """
    import json

    from measurekit.data import read_and_validate
    from measurekit.data.readers import sources
    from measurekit.data.schemas import declared
    from measurekit.design.choose import choose_framework

    folder = Path(folder)
    report = ProblemReport(title="Validation of a multi-period data folder")
    if not folder.is_dir():
        report.add("missing_folder", f"{str(folder)!r} is not a folder.", value=str(folder), rule="a folder")
        return Periods({}, report)
    fw = choose_framework(framework, data=folder)
    dfw = declared(fw)
    folders = _period_folders(folder, report)
    if not folders:
        report.add("period_bad_name", "No folder named like an academic year (YYYY-YY) in the data folder.",
                   file=folder.name, rule="one folder per academic year named YYYY-YY")
    cohorts: dict = {}
    present: dict[str, set[str]] = {}
    for label, sub in folders.items():
        present[label] = _present_tables(sources(sub, config, framework=fw))
        with ages_on(reference_date(label)):      # ages as at the period's end, not today
            cohort, rep = read_and_validate(sub, config=config, framework=fw)
        report.extend(_in_period(rep, sub.name))
        if cohort is not None:
            cohorts[label] = cohort
    everywhere = set().union(*present.values()) if present else set()
    for label, tables in present.items():
        for name in sorted(everywhere - tables):
            others = [k for k, v in present.items() if name in v]
            report.add("period_missing_file", f"{folders[label].name} has no {name} file, which "
                       f"{', '.join(others)} have: add it, or leave that table out of every period.",
                       file=f"{folders[label].name}/{name}.csv", column=None, value=name,
                       rule="every period holds the same tables")
    _cross_checks(cohorts, folders, dfw, report)
    truth = folder / "ground_truth.json"
    gt = json.loads(truth.read_text(encoding="utf-8")) if truth.exists() else None
    return Periods(cohorts, report, gt, folders)


def _cross_checks(cohorts: dict, folders: dict, fw, report: ProblemReport) -> None:
    pop = fw.population
    people, idc = pop.table, pop.id
    eyfsp = next((t.name for t in fw.tables if t.kind == "eyfsp"), None)     # the table of kind eyfsp, any name
    # each table's ids of every period hashed once together (cost grows with the children, not with pairs of
    # periods): a row is reported when its id first appeared in an earlier period
    checks = []
    for table, code, what in ((people, "period_child_overlap", "the population file"),
                              (eyfsp, "period_eyfsp_twice", "an EYFSP record")):
        labels = [lb for lb, c in cohorts.items() if table is not None and table in c.tables
                  and idc in c.tables[table]]
        if not labels:
            continue
        ids_of = {lb: cohorts[lb].tables[table][idc].astype(str).to_numpy() for lb in labels}
        codes, _ = pd.factorize(np.concatenate(list(ids_of.values())))   # codes in order of first appearance
        which = np.repeat(np.arange(len(labels)), [len(x) for x in ids_of.values()])
        new = np.ones(len(codes), dtype=bool)
        new[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
        first_period = which[np.flatnonzero(new)][codes]       # the period each row's id first appears in
        offsets = dict(zip(labels, np.cumsum([0] + [len(x) for x in ids_of.values()])[:-1].tolist()))
        checks.append((table, code, what, labels, ids_of, first_period, offsets))
    for label in cohorts:
        name = folders[label].name
        for table, code, what, labels, ids_of, first_period, offsets in checks:
            if label not in ids_of:
                continue
            ids, k, at = ids_of[label], labels.index(label), offsets[label]
            for i in np.flatnonzero(first_period[at:at + len(ids)] < k).tolist():
                first = labels[first_period[at + i]]
                rule = ("one reception cohort per period: a child belongs to one" if code == "period_child_overlap"
                        else "the EYFSP is completed once, at the end of reception")
                report.add(code, f"{idc} {ids[i]!r} has {what} in {first} and again in {label}.",
                           file=f"{name}/{table}.csv", row=i + 2, column=idc, value=ids[i], rule=rule)
    lookup = pop.lookup
    area, small = pop.area, pop.small_area
    previous = None
    for label, cohort in cohorts.items():
        lk = cohort.tables.get(lookup) if lookup else None
        if lk is None or area not in lk or small not in lk:
            previous = None
            continue
        now = dict(zip(lk[small].astype(str), lk[area].astype(str)))
        if previous is not None:
            prev_label, before = previous
            keys = lk[small].astype(str).to_numpy()
            for i, key in enumerate(keys):
                if key in before and before[key] != now[key]:
                    report.add("period_boundary_change",
                               f"Small area {key!r} is in {before[key]!r} in {prev_label} and in {now[key]!r} in "
                               f"{label}: a boundary change. Area series across it compare different places; "
                               "the statistics over time report the areas as each period's lookup draws them.",
                               file=f"{folders[label].name}/{lookup}.csv", row=i + 2, column=area,
                               value=f"{before[key]} -> {now[key]}", rule="same area for a small area in every period",
                               severity="warning")
        previous = (label, now)


def validate_periods(folder, *, config=None, framework=None) -> ProblemReport:
    """Every problem of a multi-period folder (each period's, and across periods)."""
    return read_and_validate_periods(folder, config=config, framework=framework).report


def read_periods(folder, *, config=None, framework=None) -> Periods:
    """Read a multi-period folder; raises ``InputError`` (with the whole report) when there are errors."""
    result = read_and_validate_periods(folder, config=config, framework=framework)
    if not result.report.ok:
        raise InputError(result.report)
    return result
