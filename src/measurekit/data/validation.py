"""Validate a folder of input files against their Table Schemas and the cross-file rules.

The tables, their columns and which of them holds the people (id, area, small area, date of birth) come from the
framework's declaration (``population`` and ``tables`` in its framework.yaml); the rules of the national datasets
(EYFSP's GLD, ASQ-3's steps) apply to tables of that ``kind``.

Every problem is reported (not only the first), each with file, row (as a spreadsheet user
counts it: the header is row 1), column, value, rule, a plain-English message and a stable
code. Nothing in the input folder is ever written to. Values are cut to 80 characters in
reports and messages (a 50 MB field is never echoed whole).

The checks run on Polars columns (whole-column expressions; Python only touches the rows
that have a problem), so a national cohort of 1,000,000 children is checked in seconds.

Codes: ``missing_file``, ``ambiguous_file``, ``symlink_loop``, ``broken_link``, ``unreadable_file``,
``undecodable_byte``, ``encoding_fallback`` (warning), ``delimiter_detected`` (info),
``duplicate_column``, ``missing_column``, ``unknown_column`` (warning), ``missing_value``,
``wrong_type``, ``invalid_date``, ``date_format_hint`` (warning), ``unknown_code``,
``item_out_of_scale``, ``out_of_range``, ``duplicate_id``, ``unknown_child``, ``unknown_small_area``,
``neighbourhood_mismatch``, ``gld_mismatch``, ``total_elgs_mismatch``, ``summer_born_mismatch``,
``future_date``, ``implausible_date``, ``date_before_birth``, ``asq_not_multiple_of_5``,
``duplicate_response`` (warning), ``missing_eyfsp`` and ``elg_not_assessed`` (completeness across
files: a warning, an error above ``completeness_threshold``).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from measurekit.data import eyfsp
from measurekit.data.readers import ReadProblem, cut, load_config, path_problem, read_raw, sources
from measurekit.data.schemas import declared, population, required_tables, table_schema
from measurekit.problems import ProblemReport

if TYPE_CHECKING:
    import polars as pl

_INT = r"^[+-]?\d+(\.0+)?$"
_NUM = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DMY = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$")
COMPLETENESS_THRESHOLD = 0.05   # more than 5% of children without an EYFSP record (or not assessed) is an error
_YES = {"y", "yes", "true", "t"}
_NO = {"n", "no", "false", "f"}


@dataclass
class Completeness:
    """How complete the routine records are across files (for published denominators).

    children: rows in the children file; without_eyfsp: children with no EYFSP record;
    not_assessed: children with an EYFSP record in which at least one ELG is ``A`` (not assessed);
    threshold: the share above which either is an error.
    """

    children: int = 0
    without_eyfsp: int = 0
    not_assessed: int = 0
    threshold: float = COMPLETENESS_THRESHOLD

    def to_dict(self) -> dict:
        return dict(children=self.children, without_eyfsp=self.without_eyfsp, not_assessed=self.not_assessed,
                    threshold=self.threshold)


def _each(report: ProblemReport, mask, values, code: str, message, *, file: str, column: str, rule: str,
          severity: str = "error") -> None:
    """Add one problem per True row of ``mask`` (a Polars boolean Series); ``message`` may be a function of
    the (cut) value. Only the flagged rows ever reach Python."""
    rows = mask.fill_null(False).arg_true()
    if rows.len() == 0:
        return
    for i, v in zip(rows.to_list(), values.gather(rows).to_list()):
        shown = cut(v)
        report.add(code, message(shown) if callable(message) else message, file=file, row=i + 2, column=column,
                   value=shown, rule=rule, severity=severity)


def _iso_dates(values):
    """yyyy-mm-dd text parsed to Polars dates (null where not a real date in that form)."""
    import polars as pl

    return (pl.when(values.str.contains(_DATE)).then(values).otherwise(None)
            .str.strptime(pl.Date, "%Y-%m-%d", strict=False))


def _parse_dates(series):
    import polars as pl

    return pl.select(_iso_dates(pl.lit(series))).to_series()


def _suggest_date_format(bad: list[str]) -> str | None:
    """A strptime format for day/month/year text such as 15/02/2020 (UK first when ambiguous)."""
    matches = [m for m in (_DMY.match(v) for v in bad) if m]
    if not bad or len(matches) < len(bad) / 2:
        return None
    sep = matches[0].group(2)
    first_over_12 = any(int(m.group(1)) > 12 for m in matches)
    second_over_12 = any(int(m.group(3)) > 12 for m in matches)
    if second_over_12 and not first_over_12:
        return f"%m{sep}%d{sep}%Y"
    return f"%d{sep}%m{sep}%Y"


def _mapping_hint(col: str, bad: list[str], allowed: list) -> str:
    """`values:` config text that maps the codes found onto the allowed ones (yes/no guessed for 0/1 flags)."""
    flag = sorted(map(str, allowed)) == ["0", "1"]
    pairs = []
    for v in bad[:4]:
        low = v.strip().lower()
        if flag and low in _YES:
            target = "1"
        elif flag and low in _NO:
            target = "0"
        else:
            target = f"<one of {', '.join(map(str, allowed))}>"
        pairs.append(f"{v!r}: {target}")
    return f"values: {{{col}: {{{', '.join(pairs)}}}}}"


def check_table(name: str, frame, schema: dict, file: str, report: ProblemReport, date_format: str | None = None,
                *, item_like: bool = False):
    """Check one table (a Polars frame of text cells) against its schema, adding problems to ``report``.

    ``item_like``: a voice table (a code outside an integer column's codes is ``item_out_of_scale``).
    Returns the frame, with dates in a declared ``date_format`` rewritten as yyyy-mm-dd.
    """
    import polars as pl

    fields = {f["name"]: f for f in schema["fields"]}
    for col in fields:
        if col not in frame.columns:
            report.add("missing_column", f"Column {col!r} is required in {file} but is missing "
                       "(map your own header to it in the config file if it has another name).",
                       file=file, column=col, rule="required column")
    for col in frame.columns:
        if col not in fields:
            report.add("unknown_column", f"Column {cut(col)!r} is not part of the {name} schema and will be ignored.",
                       file=file, column=cut(col), severity="warning")
    for col, f in fields.items():
        if col not in frame.columns:
            continue
        values = frame[col]
        c = f.get("constraints", {})
        blank = values == ""
        if c.get("required"):
            _each(report, blank, values, "missing_value", f"{col} is empty but is required.", file=file,
                  column=col, rule="required")
        present = ~blank
        parsed = None
        if f["type"] in ("integer", "number"):
            pattern, kind = (_INT, "a whole number") if f["type"] == "integer" else (_NUM, "a number")
            bad = present & ~values.str.contains(pattern)
            hint = ""
            if "enum" in c and bad.any():
                codes = values.filter(bad).unique(maintain_order=True).head(4).to_list()
                hint = (f"; allowed codes: {', '.join(map(str, c['enum']))}. If your file uses other codes, map them "
                        f"in the config: {_mapping_hint(col, [cut(v, 20) for v in codes], c['enum'])}")
            _each(report, bad, values, "wrong_type", f"{col} must be {kind}{hint}.", file=file, column=col,
                  rule=f"type: {f['type']}")
            ok = present & ~bad
            parsed = values.cast(pl.Float64, strict=False)   # only read where ``ok``
        elif f["type"] == "date":
            if date_format:
                dates = values.str.strptime(pl.Date, date_format, strict=False).fill_null(_parse_dates(values))
                bad = present & dates.is_null()
                frame = frame.with_columns(pl.when(dates.is_not_null()).then(dates.dt.strftime("%Y-%m-%d"))
                                           .otherwise(values).alias(col))
                _each(report, bad, values, "invalid_date", f"{col} is not a real date in the declared format "
                      f"{date_format!r} (date_format in the config) nor in the form yyyy-mm-dd.", file=file, column=col,
                      rule=f"type: date ({date_format})")
            else:
                dates = _parse_dates(values)
                bad = present & dates.is_null()
                suggestion = None
                if bad.any():
                    suggestion = _suggest_date_format(values.filter(bad).head(1000).to_list())
                advice = (" It looks like "
                          f"{suggestion.replace('%', '').replace('d', 'dd').replace('m', 'mm').replace('Y', 'yyyy')}"
                          f" (as Excel writes dates): declare `date_format: \"{suggestion}\"` in the config."
                          if suggestion else "")
                _each(report, bad, values, "invalid_date", f"{col} is not a real date in the form yyyy-mm-dd.{advice}",
                      file=file, column=col, rule="type: date (yyyy-mm-dd)")
                if suggestion:
                    n_bad = int(bad.sum())
                    report.add("date_format_hint", f"{n_bad:,} values of {col} are not yyyy-mm-dd dates but look like "
                               f"{suggestion!r} (e.g. {cut(values.filter(bad)[0], 20)!r}); declare "
                               f"`date_format: \"{suggestion}\"` in the config (for all files, or under this file).",
                               file=file, column=col, value=str(n_bad), rule=f"date_format: {suggestion}",
                               severity="warning")
            ok = present & ~bad
        else:
            ok = present
        if "enum" in c:
            allowed = c["enum"]
            if parsed is not None:   # an integer or number column
                bad = ok & ~parsed.is_in([float(a) for a in allowed]).fill_null(False)
            else:
                bad = ok & ~values.is_in([str(a) for a in allowed])
            code = "item_out_of_scale" if item_like and f["type"] == "integer" else "unknown_code"
            what = ("is not a code of this item's response scale" if code == "item_out_of_scale"
                    else "is not an allowed code")
            hint = ""
            if code == "unknown_code" and bad.any():
                codes = values.filter(bad).unique(maintain_order=True).head(4).to_list()
                hint = (" If your file uses other codes, map them in the config: "
                        f"{_mapping_hint(col, [cut(v, 20) for v in codes], allowed)}")
            _each(report, bad, values, code, lambda v, w=what, h=hint, col=col, allowed=allowed: f"{col} = {v!r} {w}; "
                  f"allowed: {', '.join(map(str, allowed))}.{h}", file=file, column=col,
                  rule="enum: " + "|".join(map(str, allowed)))
        for bound in ("minimum", "maximum"):
            if bound in c and parsed is not None:
                beyond = parsed < c[bound] if bound == "minimum" else parsed > c[bound]
                _each(report, ok & beyond.fill_null(False), values, "out_of_range",
                      lambda v, col=col, c=c: f"{col} = {v} is outside the allowed range "
                      f"{c.get('minimum', '')}..{c.get('maximum', '')}.",
                      file=file, column=col, rule=f"{bound}: {c[bound]}")
        dup = _unique_rows(values) if c.get("unique") else None
        if dup is not None:
            _each(report, present & dup, values, "duplicate_id",
                  lambda v, col=col: f"{col} {v!r} appears more than once; it must be unique.", file=file, column=col,
                  rule="unique")
    return frame


def _kept_columns(table, fw) -> list[str]:
    """Columns a table keeps for the cross-file checks when only validating (the rest is dropped after its own
    checks)."""
    pop = population(fw)
    if table.name == pop.table:
        return [pop.id, "_h", pop.small_area or "", pop.area, "_born"]
    if table.name == pop.lookup:
        return [pop.small_area or "", pop.area]
    if table.kind == "eyfsp":
        return [pop.id, "_h", "_not_assessed"]
    if table.kind == "voice" and table.date:
        return [pop.id, "_h", table.date]
    return [pop.id, "_h"]


def _unique_rows(values):
    """Rows whose value occurs more than once, or None when every value is distinct.

    Distinct 64-bit hashes prove distinct values, so a clean column costs one pass over its hashes;
    only a column with repeated hashes is compared as text (exact)."""
    if values.hash().n_unique() == values.len():
        return None
    return values.is_duplicated()


def _with_key(frame, id_column: str):
    """Add ``_h``, the 64-bit hash of the person id, used to join the large tables (integer joins are several times
    faster than text joins). Two different ids share a hash with probability about n^2 / 2^64 (1e-7 for a
    national cohort); such a pair would only hide an unknown_child or date_before_birth, never invent one."""
    import polars as pl

    return frame.with_columns(pl.col(id_column).hash().alias("_h")) if id_column in frame.columns else frame


CONTRACT_BIRTH_FLAG = ("summer_born", [4, 5, 6, 7, 8])   # the data contract's flag, checked when none is declared
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def _birth_month_flags(table, pop, frame) -> list[tuple[str, list[int]]]:
    """The population table's columns that flag months of birth (``birth_months`` in framework.yaml), present in
    ``frame``; with none declared, the data contract's ``summer_born`` (April to August) when the population is the
    contract's (``children`` keyed by ``child_id``). A column named otherwise is checked only when declared."""
    flags = [(c.name, list(c.birth_months)) for c in getattr(table, "columns", None) or [] if c.birth_months]
    if not flags and (pop.table, pop.id) == ("children", "child_id"):
        flags = [CONTRACT_BIRTH_FLAG]
    return [(name, months) for name, months in flags if name in frame.columns]


def _months_words(months: list[int]) -> tuple[str, str]:
    """Months in words and as a rule: ([4..8]) -> ("April-August", "4..8"); otherwise listed ("1, 3")."""
    m = sorted(set(months))
    if len(m) > 1 and m == list(range(m[0], m[-1] + 1)):
        return f"{MONTHS[m[0] - 1]}-{MONTHS[m[-1] - 1]}", f"{m[0]}..{m[-1]}"
    return ", ".join(MONTHS[k - 1] for k in m), ", ".join(map(str, m))


def _table_rules(table, fw, frame, file: str, report: ProblemReport, today: dt.date):
    """Rules within one table beyond its schema (dates against today, plausible ages, GLD and totals against the
    ELGs, ASQ steps, repeated responses, a compound key used twice). Returns the frame with helper columns for the
    cross-file checks."""
    import polars as pl

    pop = population(fw)
    name, person = table.name, pop.person
    ts_today = pl.lit(today)
    birth = pop.birth_date
    if name == pop.table and birth and birth in frame.columns:
        births = _parse_dates(frame[birth])
        raw_dob = frame[birth]
        future = pl.select(pl.lit(births) > ts_today).to_series()
        _each(report, future, raw_dob, "future_date", f"{birth} is in the future.", file=file,
              column=birth, rule=f"<= {today.isoformat()}")
        if pop.age_years:
            lo, hi = pop.age_years
            from measurekit.data.periods import ages_reference

            on = ages_reference()          # a period's reference date (data/periods.py), else None: today
            age = pl.select((pl.lit(on or today) - pl.lit(births)).dt.total_days() / 365.25).to_series()
            _each(report, ~future & ((age < lo) | (age > hi)), raw_dob, "implausible_date",
                  f"{birth} gives an age outside {lo}-{hi} years" + (f" on {on.isoformat()}" if on else "")
                  + (f" for {pop.group}." if pop.group else "."),
                  file=file, column=birth, rule=f"age {lo}-{hi} years" + (f" on {on.isoformat()}" if on else ""))
        # a 0/1 flag of the month of birth (the English school year's summer-born: born 1 April to 31 August is
        # the youngest in the year group): the columns that declare birth_months
        for col, months in _birth_month_flags(table, pop, frame):
            expected = pl.select(pl.lit(births).dt.month().is_in(months).cast(pl.Int8).cast(pl.String)).to_series()
            sb = frame[col]
            bad = births.is_not_null() & sb.is_in(["0", "1"]) & (sb != expected)
            span, rule = _months_words(months)
            _each(report, bad, sb, "summer_born_mismatch",
                  f"{col} disagrees with {birth} (born {span} = 1).", file=file, column=col,
                  rule=f"{col} = month of birth in {rule}")
        frame = frame.with_columns(births.alias("_born"))
    date_col = table.date if table.kind == "voice" else None
    if date_col and date_col in frame.columns:
        d = _parse_dates(frame[date_col])
        future = pl.select(pl.lit(d) > ts_today).to_series()
        _each(report, future, frame[date_col], "future_date", f"{date_col} is in the future.", file=file,
              column=date_col, rule=f"<= {today.isoformat()}")
    key = list(table.key) or [pop.id]
    if table.kind == "voice" and pop.id in frame.columns and pop.id not in key and not table.round:
        ids = frame[pop.id]
        dup = _unique_rows(ids)
        if dup is not None:
            _each(report, (ids != "") & ~ids.is_first_distinct(), ids, "duplicate_response",
                  f"This {person} already has a {table.respondent} response; the latest is used.", file=file,
                  column=pop.id, rule=f"one response per {person}", severity="warning")
    if len(key) > 1 and set(key) <= set(frame.columns):
        # a compound key (a person and a review round): each combination once
        whole = frame.select(pl.all_horizontal([pl.col(k) != "" for k in key]).alias("_full"),
                             pl.struct(key).is_duplicated().alias("_dup"),
                             pl.struct(key).is_first_distinct().alias("_first"),
                             pl.concat_str([pl.col(k) for k in key], separator=" / ").alias("_shown"))
        _each(report, whole["_full"] & whole["_dup"] & ~whole["_first"], whole["_shown"], "duplicate_compound_key",
              lambda v: f"{' and '.join(key)} = {v} appears more than once; each combination must be unique.",
              file=file, column=" + ".join(key), rule="unique: " + " + ".join(key))
    if table.kind == "eyfsp" and set(eyfsp.ELG_COLUMNS) <= set(frame.columns):
        e = frame
        if "gld" in e.columns:
            derived = e.select(pl.all_horizontal([pl.col(c) == eyfsp.EXPECTED for c in eyfsp.GLD_COLUMNS])
                               .cast(pl.Int8).cast(pl.String)).to_series()
            bad = e["gld"].is_in(["0", "1"]) & (e["gld"] != derived)
            for i in bad.arg_true().to_list():
                report.add("gld_mismatch", f"gld = {e['gld'][i]} but the ELG judgements give {derived[i]} "
                           "(GLD needs 'expected' in all 12 ELGs of the prime areas, literacy and mathematics).",
                           file=file, row=i + 2, column="gld", value=e["gld"][i], rule="DfE GLD rule")
        if "total_elgs_expected" in e.columns:
            derived = e.select(pl.sum_horizontal([(pl.col(c) == eyfsp.EXPECTED).cast(pl.Int32)
                                                  for c in eyfsp.ELG_COLUMNS]).cast(pl.String)).to_series()
            tot = e["total_elgs_expected"]
            bad = tot.str.contains(_INT) & (tot != derived)
            for i in bad.arg_true().to_list():
                report.add("total_elgs_mismatch", f"total_elgs_expected = {cut(tot[i])} but "
                           f"{derived[i]} ELGs are at 'expected'.", file=file, row=i + 2, column="total_elgs_expected",
                           value=cut(tot[i]), rule="count of ELGs at expected")
        frame = frame.with_columns(pl.any_horizontal([pl.col(c) == eyfsp.NOT_ASSESSED for c in eyfsp.ELG_COLUMNS])
                                   .alias("_not_assessed"))
    if table.kind == "asq":
        for col in [c for c in frame.columns
                    if c.startswith("asq_") and not c.endswith("_zone") and c != "asq_age_months"]:
            v = frame[col]
            num = v.cast(pl.Float64, strict=False)
            _each(report, v.str.contains(_INT) & num.is_not_null() & (num % 5 != 0), v, "asq_not_multiple_of_5",
                  f"{col} must be a multiple of 5 (items score 0, 5 or 10).", file=file, column=col,
                  rule="multiple of 5")
    return frame


def _cross_checks(raw: dict, files: dict[str, str], report: ProblemReport, fw,
                  threshold: float = COMPLETENESS_THRESHOLD) -> Completeness:
    """Rules across files: area lookup, every person id known, dates after birth, completeness."""
    import polars as pl

    pop = population(fw)
    pid, person = pop.id, pop.person
    children = raw.get(pop.table)
    known = dob = None
    if children is not None and "_h" in children.columns:
        known = children.select("_h")
        if "_born" in children.columns:
            dob = children.select("_h", "_born")
        if _unique_rows(children[pid]) is not None:
            known = known.unique()
            if dob is not None:
                dob = dob.unique("_h", keep="first", maintain_order=True)
    lookup = raw.get(pop.lookup) if pop.lookup else None
    sa, area_col = pop.small_area, pop.area
    if children is not None and lookup is not None and sa and {sa, area_col} <= set(children.columns) \
            and {sa, area_col} <= set(lookup.columns):
        nb_of = dict(zip(lookup[sa].to_list(), lookup[area_col].to_list()))
        f = files[pop.table]
        area = children[sa]
        _each(report, ~area.is_in(list(nb_of)) & (area != ""), area, "unknown_small_area",
              f"{sa} is not in the small-area lookup ({pop.lookup} file).", file=f, column=sa,
              rule=f"foreign key: {pop.lookup}.{sa}")
        mapped = area.replace_strict(nb_of, default=None, return_dtype=pl.String)
        bad = mapped.is_not_null() & (mapped != children[area_col])
        for i in bad.fill_null(False).arg_true().to_list():
            report.add("neighbourhood_mismatch", f"{area_col} disagrees with the lookup for small area "
                       f"{cut(area[i])} ({cut(mapped[i])}).", file=f, row=i + 2, column=area_col,
                       value=cut(children[area_col][i]), rule=f"lookup {sa} -> {area_col}")
    for name, frame in raw.items():
        if name in (pop.table, pop.lookup) or pid not in frame.columns:
            continue
        f = files[name]
        ids = frame.select(pid, "_h").with_row_index("_row")
        if known is not None:
            unknown = ids.filter(pl.col(pid) != "").join(known, on="_h", how="anti").sort("_row")
            for i, v in zip(unknown["_row"].to_list(), unknown[pid].to_list()):
                report.add("unknown_child", f"{pid} is not in the {pop.table} file.", file=f, row=i + 2,
                           column=pid, value=cut(v), rule=f"foreign key: {pop.table}.{pid}")
        table = fw.table(name)
        date_col = table.date if table.kind == "voice" else None
        if date_col and date_col in frame.columns and dob is not None:
            d = _parse_dates(frame[date_col])
            born = ids.join(dob, on="_h", how="left").sort("_row")["_born"]
            _each(report, d.is_not_null() & born.is_not_null() & (d < born), frame[date_col], "date_before_birth",
                  f"{date_col} is before the {person}'s date of birth.", file=f, column=date_col,
                  rule=f">= {pop.birth_date}")
    return _completeness(raw, files, report, fw, threshold)


def _completeness(raw: dict, files: dict[str, str], report: ProblemReport, fw, threshold: float) -> Completeness:
    """People without an EYFSP record, and with an ELG not assessed (when the framework has a table of kind
    eyfsp): counted, reported, an error above ``threshold`` (a share of the population table). GLD published on
    the children with records would otherwise look like the whole cohort."""
    out = Completeness(threshold=threshold)
    pop = population(fw)
    pid, people = pop.id, pop.people
    children = raw.get(pop.table)
    if children is None or pid not in children.columns:
        return out
    import polars as pl

    ids = children.filter(pl.col(pid) != "").select(pid, "_h")
    if _unique_rows(ids[pid]) is not None:
        ids = ids.unique("_h", maintain_order=True)
    out.children = ids.height
    kinds = [t.name for t in fw.tables if t.kind == "eyfsp"]
    e = raw.get(kinds[0]) if kinds else None
    if e is None or pid not in e.columns or out.children == 0:
        return out
    absent = ids.join(e.select("_h"), on="_h", how="anti")
    out.without_eyfsp = absent.height
    if "_not_assessed" in e.columns:
        flagged = e.filter(pl.col("_not_assessed")).select("_h").unique()
        out.not_assessed = ids.join(flagged, on="_h", how="semi").height
    f = files.get(kinds[0], f"{kinds[0]}.csv")
    if out.without_eyfsp:
        share = out.without_eyfsp / out.children
        over = share > threshold
        missing = absent[pid].head(3).to_list()
        report.add("missing_eyfsp", f"{out.without_eyfsp:,} of {out.children:,} {people} ({share:.1%}) have no EYFSP "
                   f"record (e.g. {', '.join(cut(m, 20) for m in missing)}). "
                   + ("That is more than the completeness threshold of "
                      f"{threshold:.0%}: GLD on the others would be published as if it were the whole cohort. Add the "
                      "missing records, or raise completeness_threshold in the config and say so in the publication."
                      if over else "Published denominators say how many are missing."),
                   file=f, column=pid, value=str(out.without_eyfsp), rule=f"missing share <= {threshold:g}",
                   severity="error" if over else "warning")
    if out.not_assessed / out.children > threshold:
        report.add("elg_not_assessed", f"{out.not_assessed:,} of {out.children:,} {people} "
                   f"({out.not_assessed / out.children:.1%}) have at least one ELG not assessed (A), more than the "
                   f"completeness threshold of {threshold:.0%}. Check the extract is final; such {people} count in "
                   "the cohort and do not meet GLD.", file=f, value=str(out.not_assessed),
                   rule=f"not-assessed share <= {threshold:g}")
    return out


def read_and_check(folder, config=None, *, framework=None, today: dt.date | None = None, keep_all: bool = True):
    """Read every table as text and check it. Returns (raw Polars tables, file names, report, completeness).

    With ``keep_all=False`` (validation only) each table keeps only the columns the cross-file checks
    need once its own checks are done, so one large file at a time is held in memory whole.
    """
    from measurekit.design.choose import choose_framework

    folder = Path(folder)
    fw = declared(choose_framework(framework, data=folder))
    report = ProblemReport(title=f"Validation of {folder}")
    today = today or dt.date.today()
    raw: dict[str, pl.DataFrame] = {}
    files: dict[str, str] = {}
    if not folder.is_dir():
        report.add("missing_folder", f"The data folder {folder} does not exist.")
        return raw, files, report, Completeness()
    from measurekit.data.periods import is_period_folder

    if is_period_folder(folder):       # several academic years: read per period (data/periods.py)
        report.add("period_folder", f"{folder} holds one folder per academic year, not the files of one year: give "
                   "one year's folder here, or use the commands for several years (measurekit board-pack, measurekit "
                   "over-time; measurekit validate reads every year).", file=folder.name,
                   rule="the files of one period")
        return raw, files, report, Completeness()
    cfg = load_config(config, [t.name for t in fw.tables])
    threshold = float(cfg.get("completeness_threshold", COMPLETENESS_THRESHOLD))
    required = required_tables(fw)
    for name, src in sources(folder, cfg, framework=fw).items():
        if len(src.candidates) > 1:
            report.add("ambiguous_file", f"{len(src.candidates)} files could be the {name} table: "
                       f"{', '.join(p.name for p in src.candidates)}. Keep one, or name the one to use with "
                       f"`files: {{{name}: {{path: ...}}}}` in the config.", file=src.candidates[0].name)
            continue
        if src.path is not None:
            why = path_problem(src.path, given=src.given)
            if why:
                report.add(why[0], why[1], file=src.path.name)
                continue
        if src.path is None or not src.path.exists():
            if name in required or src.path is not None:
                report.add("missing_file", f"No {name} file found in {folder} (expected {name}.csv or .xlsx, "
                           "or a path in the config).", file=str(src.path.name if src.path else f"{name}.csv"))
            continue
        files[name] = src.path.name
        try:
            frame = read_raw(src)
        except ReadProblem as exc:
            report.add(exc.code, exc.message, file=src.path.name, **exc.where)
            continue
        except Exception as exc:  # noqa: BLE001 - any read failure is reported, not raised
            report.add("unreadable_file", f"Could not read the file: {cut(exc, 300)}", file=src.path.name)
            continue
        finally:
            for note in src.notes:
                report.add(note.pop("code"), note.pop("message"), file=src.path.name, **note)
            src.notes.clear()
        table = fw.table(name)
        frame = check_table(name, frame, table_schema(name, fw), src.path.name, report, src.date_format,
                            item_like=table.kind == "voice")
        frame = _with_key(_table_rules(table, fw, frame, src.path.name, report, today), population(fw).id)
        if not keep_all:
            frame = frame.select([c for c in _kept_columns(table, fw) if c and c in frame.columns])
        raw[name] = frame
    completeness = _cross_checks(raw, files, report, fw, threshold)
    for name in list(raw):
        raw[name] = raw[name].drop([c for c in ("_born", "_not_assessed", "_h") if c in raw[name].columns])
    return raw, files, report, completeness


def validate_dir(folder, *, config=None, framework=None, today: dt.date | None = None) -> ProblemReport:
    """Check every input file in ``folder``; returns a report of every problem found.

    ``report.ok`` is False when there are errors; ``report.to_frame()`` has the columns
    severity, code, file, row, column, value, rule, message. A folder of academic-year subfolders is
    validated period by period and across periods (``data/periods.py``).
    """
    from measurekit.data.periods import is_period_folder, validate_periods

    if is_period_folder(folder):    # one subfolder per academic year (data/periods.py)
        return validate_periods(folder, config=config, framework=framework)
    return read_and_check(folder, config, framework=framework, today=today, keep_all=False)[2]
