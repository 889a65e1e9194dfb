"""Input data: schemas, readers, validation, EYFSP facts, linkage and pseudonymisation."""
from __future__ import annotations

from pathlib import Path

from measurekit.data.cohort import Cohort
from measurekit.data.linkage import LinkageResult, link
from measurekit.data.validate import validate_dir

__all__ = ["Cohort", "LinkageResult", "link", "read_dir", "validate_dir", "main_validate", "main_link"]


def read_dir(folder, config=None, framework=None) -> Cohort:
    """Read, validate and type every input file in ``folder``.

    Raises ``InputError`` (with the full report as ``.report``) when there are errors;
    warnings are kept in ``cohort.warnings``. The files are only read, never written.
    """
    from measurekit import paths
    from measurekit.data.readers import typed
    from measurekit.data.schemas import table_schema
    from measurekit.data.validate import read_and_check
    from measurekit.spec import load_framework

    fw = framework if framework is not None else load_framework(paths.BUNDLED_FRAMEWORK)
    raw, _files, report = read_and_check(folder, config, fw)
    report.raise_if_errors()
    tables = {name: typed(frame, table_schema(name, fw)) for name, frame in raw.items()}
    cohort = Cohort(tables, framework=fw)
    cohort.warnings = [str(p) for p in report.warnings]
    truth = Path(folder) / "ground_truth.json"
    if truth.exists():
        import json

        cohort.ground_truth = json.loads(truth.read_text(encoding="utf-8"))
    return cohort


def main_validate(args) -> int:
    report = validate_dir(args.data, args.config)
    print(report.to_text(limit=100))
    if args.report:
        from measurekit import _io

        _io.write_csv(args.report, report.to_frame())
        print(f"Full report written to {args.report}")
    if report.ok:
        print("No errors: the files can be used.")
    return 0 if report.ok else 1


def main_link(args) -> int:
    from measurekit import _io

    key = None
    if args.pseudonymise:
        from measurekit.data.pseudonymise import load_key

        key = load_key(args.key_file)
    cohort = read_dir(args.data, args.config)
    result = link(cohort, key=key)
    with _io.atomic_directory(args.out) as out:
        _io.write_csv(out / "linked.csv", result.linked)
        _io.write_csv(out / "linkage_summary.csv", result.summary)
        _io.write_csv(out / "linkage_comparison.csv", result.comparison)
        _io.write_csv(out / "unmatched_responses.csv", result.unmatched_responses)
        _io.write_csv(out / "duplicate_responses.csv", result.duplicates)
    print(result.summary.to_string(index=False))
    for w in result.warnings:
        print("Note:", w)
    print(f"Linked data and the linkage report are in {args.out}")
    return 0
