"""Frictionless Table Schemas for every input file.

One Python definition produces the schemas that are written beside the data
(``<stem>.schema.json``), used by validation, and used to type the columns when reading.
The voice schemas take their item columns and allowed codes from the framework, so the
instrument is described in one place only.
"""
from __future__ import annotations

from measurekit.data.eyfsp import CODES as ELG_CODES
from measurekit.data.eyfsp import ELGS

HOME_LANGUAGES = ["English", "Urdu", "Bengali", "Punjabi", "Polish", "Arabic", "Romanian", "Other"]
FORM_LANGUAGES = ["en", "ur", "bn", "pa", "pl", "ar", "ro"]
ETHNICITY_GROUPS = ["White British", "White Other", "Pakistani", "Bangladeshi", "Indian", "Black", "Arab", "Mixed",
                    "Other"]
SEND = ["none", "sen_support", "ehc_plan"]
ASQ_DOMAINS = ["communication", "gross_motor", "fine_motor", "problem_solving", "personal_social"]
ASQ_ZONES = ["above", "monitoring", "below"]
TABLES = ["children", "small_areas", "eyfsp", "asq", "voice_parent", "voice_practitioner", "later_outcome",
          "voice_retest"]
# tables every analysis needs; the others may be absent
REQUIRED_TABLES = ["children", "eyfsp", "voice_parent"]


def _f(name, type_, description, **constraints):
    field = {"name": name, "type": type_, "description": description}
    if type_ == "date":
        field["format"] = "%Y-%m-%d"
    if constraints:
        field["constraints"] = constraints
    return field


def _flag(name, description, required=True):
    return _f(name, "integer", description + " (1 = yes, 0 = no)", required=required, enum=[0, 1])


def _child_id(unique: bool):
    kw = {"required": True}
    if unique:
        kw["unique"] = True
    return _f("child_id", "string", "Pseudonymous child identifier (the same in every file)", **kw)


def _item_fields(framework, respondent):
    fields = []
    for item in framework.items:
        if respondent not in item.respondents:
            continue
        scale = framework.scale(item.scale)
        dk = f"; {scale.dont_know.code} = don't know" if scale.dont_know else ""
        labels = ", ".join(f"{o.code} = {o.label.get('en', '')}" for o in scale.options)
        fields.append(_f(item.id, "integer", f"{item.stem.get('en', item.id)} [{labels}{dk}; blank = not answered]"
                         + (" (reverse keyed)" if item.reverse else ""), enum=scale.valid_codes))
    return fields


def table_schema(name: str, framework=None) -> dict:
    """The Table Schema (a dict) of input table ``name``; voice tables need the framework."""
    if name == "children":
        fields = [
            _child_id(unique=True),
            _f("sex", "string", "Sex recorded in the school census (F or M)", required=True, enum=["F", "M"]),
            _f("date_of_birth", "date", "Date of birth (ISO yyyy-mm-dd)", required=True),
            _flag("summer_born", "Born 1 April to 31 August, the youngest in the year group"),
            _flag("fsm", "Eligible for free school meals"),
            _f("send", "string", "Special educational needs: none, SEN support, or an EHC plan", required=True,
               enum=SEND),
            _flag("eal", "English is an additional language"),
            _f("home_language", "string", "Main language spoken at home", required=True, enum=HOME_LANGUAGES),
            _f("ethnicity_group", "string", "Ethnic group (broad)", required=True, enum=ETHNICITY_GROUPS),
            _f("idaci_decile", "integer", "IDACI decile of the home address (1 = most deprived 10%)", required=True,
               minimum=1, maximum=10),
            _flag("mobility", "Moved home in the last two years"),
            _f("small_area", "string", "Small-area code of the home address (synthetic codes start SYN-)",
               required=True),
            _f("neighbourhood", "string", "Neighbourhood (board area) of the home address", required=True),
        ]
        key = ["child_id"]
    elif name == "small_areas":
        fields = [
            _f("small_area", "string", "Small-area code", required=True, unique=True),
            _f("small_area_name", "string", "Small-area name", required=True),
            _f("neighbourhood_code", "string", "Neighbourhood code", required=True),
            _f("neighbourhood", "string", "Neighbourhood name", required=True),
        ]
        key = ["small_area"]
    elif name == "eyfsp":
        codes = list(ELG_CODES)
        fields = [_child_id(unique=True)]
        fields += [_f(e.column, "string", f"ELG {e.name} ({e.area}): 1 = emerging, 2 = expected, A = not assessed",
                      required=True, enum=codes) for e in ELGS]
        fields += [_flag("gld", "Good Level of Development: expected in the 12 ELGs of the prime areas, literacy and "
                         "mathematics"),
                   _f("total_elgs_expected", "integer", "Number of the 17 ELGs at the expected level", required=True,
                      minimum=0, maximum=17)]
        key = ["child_id"]
    elif name == "asq":
        fields = [_child_id(unique=True),
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
        key = ["child_id"]
    elif name == "voice_parent":
        fields = [_f("response_id", "string", "Identifier of the survey response", required=True, unique=True),
                  _child_id(unique=False),
                  _f("form_language", "string", "Language the form was completed in (ISO 639-1)", required=True,
                     enum=FORM_LANGUAGES),
                  _f("completed_on", "date", "Date the form was completed", required=True)]
        fields += _item_fields(framework, "parent")
        key = ["response_id"]
    elif name == "voice_retest":
        # the same parents answering the same items a second time (test-retest reliability, measurement error)
        fields = [_child_id(unique=True),
                  _f("form_language", "string", "Language the form was completed in (ISO 639-1)", required=True,
                     enum=FORM_LANGUAGES),
                  _f("completed_on", "date", "Date the form was completed the second time (14-28 days after the first)",
                     required=True)]
        fields += _item_fields(framework, "parent")
        key = ["child_id"]
    elif name == "voice_practitioner":
        fields = [_child_id(unique=True),
                  _f("practitioner_id", "string", "Pseudonymous practitioner identifier", required=True),
                  _f("rated_on", "date", "Date of the practitioner's rating", required=True)]
        fields += _item_fields(framework, "practitioner")
        key = ["child_id"]
    elif name == "later_outcome":
        fields = [_child_id(unique=True),
                  _flag("y1_phonics_pass", "Met the expected standard in the Year 1 phonics screening check")]
        key = ["child_id"]
    else:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}")
    schema = {"fields": fields, "primaryKey": key, "missingValues": [""]}
    if name not in ("children", "small_areas"):
        schema["foreignKeys"] = [{"fields": "child_id", "reference": {"resource": "children", "fields": "child_id"}}]
    if name == "children":
        schema["foreignKeys"] = [{"fields": "small_area",
                                  "reference": {"resource": "small_areas", "fields": "small_area"}}]
    return schema


def data_dictionary_markdown(framework, title: str = "Data dictionary") -> str:
    """A Markdown data dictionary of every table: column, type, allowed values, meaning."""
    lines = [f"## {title}", ""]
    for name in TABLES:
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
