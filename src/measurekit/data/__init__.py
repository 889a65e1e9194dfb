"""Stage 2-3 of the flow: input data. Table schemas, readers, validation, EYFSP facts and the GLD
rule, linkage of survey responses to records, pseudonymisation and the synthetic cohort."""
from __future__ import annotations

from pathlib import Path

from measurekit.data.cohort import Cohort
from measurekit.data.linkage import LinkageResult, link
from measurekit.data.validation import validate_dir

__all__ = ["Cohort", "LinkageResult", "link", "read_and_validate", "read_dir", "validate_dir"]


def read_and_validate(folder, *, config=None, framework=None):
    """Read and validate every input file in ``folder`` once. Returns ``(cohort, report)``.

    ``framework``: the framework the data were collected with (a loaded Framework, its folder, or a shipped
    framework's name); it may be left out only for the bundled demo data (``measurekit.design.choose``).

    ``cohort`` is None when the report has errors; warnings are kept in ``cohort.warnings``;
    ``cohort.completeness`` (a ``Completeness``) says how many children have no EYFSP record or an
    ELG not assessed, for published denominators. The files are only read, never written.
    ``read_dir`` and the main job both use this, so a run reads each file once.
    """
    from measurekit.data.readers import typed
    from measurekit.data.schemas import table_schema
    from measurekit.data.validation import read_and_check
    from measurekit.design.choose import choose_framework

    fw = choose_framework(framework, data=folder)
    raw, _files, report, completeness = read_and_check(folder, config, framework=fw)
    if not report.ok:
        return None, report
    tables = {}
    for name in list(raw):
        tables[name] = typed(raw.pop(name), table_schema(name, fw))   # one table in two forms at a time
    cohort = Cohort(tables, framework=fw)
    cohort.warnings = [str(p) for p in report.warnings]
    cohort.completeness = completeness
    truth = Path(folder) / "ground_truth.json"
    if truth.exists():
        import json

        cohort.ground_truth = json.loads(truth.read_text(encoding="utf-8"))
    return cohort, report


def read_dir(folder, *, config=None, framework=None) -> Cohort:
    """Read, validate and type every input file in ``folder``.

    Raises ``InputError`` (with the full report as ``.report``) when there are errors;
    warnings are kept in ``cohort.warnings``. The files are only read, never written.
    """
    cohort, report = read_and_validate(folder, config=config, framework=framework)
    report.raise_if_errors()
    return cohort
