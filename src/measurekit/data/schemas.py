"""Frictionless Table Schemas of every input table, built from the tables the framework declares.

The framework's ``framework.yaml`` declares its data (``population`` and ``tables``; models in
``measurekit.design.models``: ``Population``, ``DataTable``, ``Column``): which table holds the people, its id,
area and small-area columns, and for each table its columns (type, allowed values or range, required, meaning).
One Python definition turns that declaration into the schemas that are written beside the data
(``<stem>.schema.json``), used by validation, and used to type the columns when reading.

Two national datasets are built in, as domain facts rather than a framework's words: a table of ``kind: eyfsp``
has the EYFSP columns and the GLD rule (``data/eyfsp.py``), one of ``kind: asq`` the ASQ-3 columns. The voice
tables (``kind: voice``) take their item columns and allowed codes from the framework's items, so the instrument is
described in one place only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from measurekit.data.eyfsp import CODES as ELG_CODES
from measurekit.data.eyfsp import ELGS

if TYPE_CHECKING:
    from measurekit.design.models import DataTable, Framework, Population

# ASQ-3 (Ages and Stages Questionnaires, third edition): the five domains and the three zones of each score
ASQ_DOMAINS = ["communication", "gross_motor", "fine_motor", "problem_solving", "personal_social"]
ASQ_ZONES = ["above", "monitoring", "below"]
BUILT_IN_KINDS = ("eyfsp", "asq")


def declared(framework) -> Framework:
    """The framework, checked to declare its data tables (``InputError`` ``no_tables_declared`` otherwise)."""
    from measurekit.problems import InputError

    if framework is None or not getattr(framework, "tables", None) or getattr(framework, "population", None) is None:
        name = getattr(framework, "name", "") or "this framework"
        raise InputError.of(
            "no_tables_declared", f"{name} declares no data tables, so there is nothing to read or check the data "
            "against. Declare `population:` and `tables:` in framework.yaml (see the bundled framework).",
            file="framework.yaml", column="tables", rule="population and tables declared")
    return framework


def population(framework) -> Population:
    """The framework's ``population`` declaration (``InputError`` ``no_tables_declared`` without one)."""
    pop = declared(framework).population
    assert pop is not None   # declared() refuses a framework without one
    return pop


def table_names(framework) -> list[str]:
    """The tables the framework declares, in its order."""
    return [t.name for t in declared(framework).tables]


def required_tables(framework) -> list[str]:
    """Tables every analysis needs (a missing file is an error); the others may be absent."""
    return [t.name for t in declared(framework).tables if t.required]


def tables_of_kind(framework, kind: str) -> list[DataTable]:
    return [t for t in declared(framework).tables if t.kind == kind]


def _f(name, type_, description, **constraints):
    field = {"name": name, "type": type_, "description": description}
    if type_ == "date":
        field["format"] = "%Y-%m-%d"
    if constraints:
        field["constraints"] = constraints
    return field


def _flag(name, description, required=True):
    return _f(name, "integer", description + " (1 = yes, 0 = no)", required=required, enum=[0, 1])


def _column_field(col, framework) -> dict:
    """One declared ``Column`` as a Table Schema field (constraints in the order required, unique, enum, min, max)."""
    kw: dict = {}
    if col.required:
        kw["required"] = True
    if col.unique:
        kw["unique"] = True
    if col.values_from == "languages":
        kw["enum"] = list(framework.languages)
    elif col.enum is not None:
        kw["enum"] = list(col.enum)
    if col.minimum is not None:
        kw["minimum"] = col.minimum
    if col.maximum is not None:
        kw["maximum"] = col.maximum
    return _f(col.name, col.type, col.description, **kw)


def _id_field(framework, unique: bool) -> dict:
    """The person id column as the population table declares it (unique or not in the table at hand)."""
    pop = population(framework)
    declared_col = next((c for c in framework.table(pop.table).columns if c.name == pop.id), None)
    description = declared_col.description if declared_col is not None else f"Pseudonymous {pop.person} identifier"
    kw = {"required": True}
    if unique:
        kw["unique"] = True
    return _f(pop.id, "string", description, **kw)


def _item_fields(framework, respondent):
    fields = []
    for item in framework.items:
        if respondent not in item.respondents:
            continue
        scale = framework.scale(item.scale)
        dk_words = (scale.dont_know.label.get("en") or "don't know").lower() if scale.dont_know else ""
        dk = f"; {scale.dont_know.code} = {dk_words}" if scale.dont_know else ""   # the scale's own words for it
        labels = ", ".join(f"{o.code} = {o.label.get('en', '')}" for o in scale.options)
        asked = item.stem_for(respondent).get("en", item.id)     # as this respondent is asked it
        fields.append(_f(item.id, "integer", f"{asked} [{labels}{dk}; blank = not answered]"
                         + (" (reverse keyed)" if item.reverse else ""), enum=scale.valid_codes))
    return fields


def _eyfsp_fields(framework) -> list[dict]:
    codes = list(ELG_CODES)
    fields = [_id_field(framework, unique=True)]
    fields += [_f(e.column, "string", f"ELG {e.name} ({e.area}): 1 = emerging, 2 = expected, A = not assessed",
                  required=True, enum=codes) for e in ELGS]
    fields += [_flag("gld", "Good Level of Development: expected in the 12 ELGs of the prime areas, literacy and "
                     "mathematics"),
               _f("total_elgs_expected", "integer", "Number of the 17 ELGs at the expected level", required=True,
                  minimum=0, maximum=17)]
    return fields


def _asq_fields(framework) -> list[dict]:
    fields = [_id_field(framework, unique=True),
              _f("asq_age_months", "integer", "Age in months at the ASQ-3 review", required=True, minimum=24,
                 maximum=36)]
    for d in ASQ_DOMAINS:
        fields.append(_f(f"asq_{d}", "integer", f"ASQ-3 {d.replace('_', ' ')} score (0-60, steps of 5)",
                         required=True, minimum=0, maximum=60))
    for d in ASQ_DOMAINS:
        fields.append(_f(f"asq_{d}_zone", "string",
                         f"ASQ-3 {d.replace('_', ' ')} zone: above the monitoring zone, monitoring (1-2 SD below "
                         "the mean), below the cut-off (about 2 SD below)",
                         required=True, enum=ASQ_ZONES))
    return fields


def table_schema(name: str, framework=None) -> dict:
    """The Table Schema (a dict) of input table ``name`` as ``framework`` declares it.

    ``fields`` (name, type, description, constraints: required, unique, enum, minimum, maximum), ``primaryKey``
    (the declared key, default the person id), ``missingValues`` (blank) and ``foreignKeys``: the person id of every
    table but the population table and the small-area lookup refers to the population table; the population's
    small area refers to the lookup. Raises ``InputError`` (``no_tables_declared``, ``unknown_table``)."""
    from measurekit.problems import InputError

    fw = declared(framework)
    pop = population(fw)
    try:
        table = fw.table(name)
    except KeyError:
        raise InputError.of("unknown_table", f"The framework declares no table {name!r}; it declares: "
                            f"{', '.join(t.name for t in fw.tables)}.", value=name,
                            rule="tables: " + ", ".join(t.name for t in fw.tables)) from None
    if table.kind == "eyfsp":
        fields = _eyfsp_fields(fw)
    elif table.kind == "asq":
        fields = _asq_fields(fw)
    else:
        fields = [_column_field(c, fw) for c in table.columns]
        if table.kind == "voice":
            fields += _item_fields(fw, table.respondent)
    schema = {"fields": fields, "primaryKey": list(table.key) or [pop.id], "missingValues": [""]}
    if name == pop.table:
        if pop.lookup and pop.small_area:
            schema["foreignKeys"] = [{"fields": pop.small_area,
                                      "reference": {"resource": pop.lookup, "fields": pop.small_area}}]
    elif name != pop.lookup:
        schema["foreignKeys"] = [{"fields": pop.id, "reference": {"resource": pop.table, "fields": pop.id}}]
    return schema


def data_dictionary_markdown(framework, title: str = "Data dictionary") -> str:
    """A Markdown data dictionary of every table: column, type, allowed values, meaning."""
    lines = [f"## {title}", ""]
    for name in table_names(framework):
        schema = table_schema(name, framework)
        lines += [f"### `{name}.csv`", "", "| column | type | allowed | meaning |", "|---|---|---|---|"]
        for f in schema["fields"]:
            c = f.get("constraints", {})
            allowed = []
            if "enum" in c:
                allowed.append(", ".join(map(str, c["enum"])))
            if "minimum" in c or "maximum" in c:
                allowed.append(f"{c.get('minimum', '')}-{c.get('maximum', '')}")
            if c.get("unique"):
                allowed.append("unique")
            if not c.get("required"):
                allowed.append("may be blank")
            desc = f["description"].replace("|", "/")
            lines.append(f"| `{f['name']}` | {f['type']} | {'; '.join(allowed)} | {desc} |")
        lines.append("")
    return "\n".join(lines)
