"""Problems found in inputs or specifications, collected into one report.

Validation never stops at the first problem: every check appends ``Problem`` records to a
``ProblemReport``; callers decide what to do with errors. Raising is for unusable input,
and the exception carries the whole report (``exc.report``).

Codes are stable strings (``"duplicate_id"``, ``"unknown_scale"``...) that tests and users can
rely on; messages are plain English and say what to do. ``CATALOGUE`` lists every code with a short
title and general advice; a test checks that every code the package reports is catalogued, so a user
can look any code up (``measurekit.problems.explain("wrong_type")``).
"""
from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    import pandas as pd

SEVERITIES = ("error", "warning", "info")


# Codes that say the data cannot support an analysis (too few people, too few items, a model the data cannot
# identify), not that the input or the call is wrong. The main job skips an analysis only for these, with the reason;
# any other error stops it, so a bug is never reported as "skipped".
CANNOT_SUPPORT = frozenset({
    "too_few_cases", "small_group", "one_group", "not_identified", "aliased_predictor", "never_together",
    "constant_item", "too_few_items", "all_missing", "no_items", "cross_loading_items",
})

# code -> (title, what to do). One entry per code reported anywhere in the package.
CATALOGUE: dict[str, tuple[str, str]] = {
    # reading and validating input files (data/)
    "framework_required": ("No framework named for this data",
                           "Name the framework the data were collected with: --framework FOLDER (framework= in "
                           "Python)."),
    "framework_not_found": ("Framework not found",
                            "Give the folder that holds framework.yaml, or a shipped framework's name."),
    "bad_synthetic_profile": ("The framework's synthetic.yaml does not fit the framework",
                              "Correct synthetic.yaml (domains, items and language mixes it names must exist), or "
                              "remove it to synthesise with neutral defaults."),
    "missing_folder": ("Folder not found", "Check the path; it must be a folder that holds the input files."),
    "missing_file": ("Required file missing", "Add the file, or map your file name to ours in the config."),
    "unreadable_file": ("File cannot be read",
                        "Save it again as CSV (UTF-8) or Excel and check it is not open elsewhere."),
    "missing_column": ("Required column missing", "Add the column, or map your column name to ours in the config."),
    "unknown_column": ("Column not expected", "Remove or rename it; it is ignored otherwise."),
    "missing_value": ("Required value is blank", "Fill the value in, or remove the row if it should not be there."),
    "wrong_type": ("Value of the wrong type", "Use the type the rule names (whole number, date, text)."),
    "out_of_range": ("Value outside the allowed range or codes",
                     "Use one of the allowed values, or map your codes to ours."),
    "invalid_date": ("Not a real date", "Write dates as YYYY-MM-DD, or declare your date format."),
    "implausible_date": ("Date outside the plausible range", "Check the year; correct typing errors."),
    "future_date": ("Date in the future", "Check the date; records cannot describe the future."),
    "date_before_birth": ("Date before the child's birth", "Check both dates."),
    "duplicate_id": ("Identifier used more than once", "Keep one row per identifier; merge or remove the duplicates."),
    "duplicate_response": ("More than one response for a child", "Keep the response to analyse; the first is used."),
    "unknown_child": ("Child not in the children file", "Check the identifier, or add the child to children.csv."),
    "unknown_small_area": ("Small area not in the lookup", "Add the area to small_areas.csv or correct the code."),
    "neighbourhood_mismatch": ("Neighbourhood disagrees with the area lookup",
                               "Correct the neighbourhood, or the lookup."),
    # several periods in one data folder (data/periods.py)
    "period_bad_name": ("Folder is not an academic year",
                        "Name each period's folder YYYY-YY (e.g. 2023-24); move other folders out of the data folder."),
    "period_folder": ("A folder of several years where one year's files were expected",
                      "Give one year's folder (e.g. DATA/2024-25), or use board-pack or over-time for every year."),
    "period_duplicate": ("Two folders for one academic year", "Keep one folder per period."),
    "period_gap": ("Academic years missing between periods",
                   "Add the missing years if they exist; otherwise the series have a gap there (allowed)."),
    "period_missing_file": ("A period lacks a file the other periods have",
                            "Add the file to that period, or leave the table out of every period."),
    "period_child_overlap": ("A child in two periods",
                             "Each period holds one reception cohort: keep the child in the period of their "
                             "reception year, or correct the identifier."),
    "period_eyfsp_twice": ("A child with an EYFSP record in two periods",
                           "The profile is completed once, at the end of reception: keep the record of the child's "
                           "reception year, or correct the identifier."),
    "period_option_multi": ("--period given with a multi-period data folder",
                            "Leave out --period: each subfolder's name (YYYY-YY) is its period."),
    "period_not_found": ("--period names an academic year the data folder does not hold",
                         "Give one of the years the folder holds (the message lists them), e.g. --period 2024/25."),
    "period_option_one_year": ("--period given with a one-year data folder",
                               "--period picks a year of a folder of academic years; leave it out for one year's "
                               "files."),
    "period_boundary_change": ("A small area moved to another area between periods",
                               "Nothing to correct if the boundary really changed: read area trends across the change "
                               "with care (the over-time tables use each period's own lookup)."),
    "summer_born_mismatch": ("summer_born disagrees with the date of birth",
                             "Recompute summer_born from the date of birth."),
    "gld_mismatch": ("GLD disagrees with the 12 goals it is defined by",
                     "Recompute GLD from the goals (see docs/data.md)."),
    "total_elgs_mismatch": ("Total of goals at expected disagrees with the goals",
                            "Recompute the total from the 17 goals."),
    "asq_not_multiple_of_5": ("ASQ-3 score not a multiple of 5", "ASQ-3 item scores are 0, 5 or 10: check the score."),
    "ambiguous_file": ("Two files for one table",
                       "Keep one file per table, or name the one to use with `path:` in the config."),
    "special_file": ("Not an ordinary file",
                     "Save the data as an ordinary CSV or Excel file (not a pipe, socket or device)."),
    "link_outside": ("Link to a file outside the data folder",
                     "Copy the file into the data folder instead of linking to it."),
    "field_too_long": ("Value too long for a cell",
                       "Check the export: an unclosed quote can join many rows into one cell."),
    "name_too_long": ("Name or code too long", "Shorten it; names and codes are labels in every output."),
    "duplicate_name": ("Name shared by two areas, or code with two names",
                       "Give each area one name and one code of its own."),
    "unknown_config_key": ("Config key measurekit does not read",
                           "Correct the spelling (the message suggests the nearest key)."),
    "config_invalid": ("Config of the wrong shape", "Follow the example in docs/data.md."),
    "symlink_loop": ("Symbolic link loop", "The link points back to itself; replace it with the file or a link to it."),
    "broken_link": ("Symbolic link to nothing", "The link's target does not exist; fix the link or copy the file in."),
    "undecodable_byte": ("Text in an unknown encoding",
                         "Save the file as 'CSV UTF-8', or name its encoding in the config."),
    "encoding_fallback": ("File not in UTF-8",
                          "It was read in the next encoding tried; check accented names look right."),
    "delimiter_detected": ("File not separated by commas",
                           "It was read with the delimiter found; say `delimiter:` in the config to be explicit."),
    "duplicate_column": ("Column header used twice", "Remove or rename the extra column; only the first is read."),
    "date_format_hint": ("Dates in another format",
                         "Declare the format the message suggests with `date_format:` in the config."),
    "item_out_of_scale": ("Answer code not on the item's response scale",
                          "Use the scale's codes, or map yours with `values:` in the config."),
    "missing_eyfsp": ("Children without an EYFSP record",
                      "Add the missing records; published denominators say how many are missing."),
    "elg_not_assessed": ("Many children with an ELG not assessed",
                         "Check the EYFSP extract is final before publishing GLD."),
    # framework specifications (design/)
    "yaml_syntax": ("YAML cannot be parsed", "Fix the line shown; check indentation and quotes."),
    "yaml_type": ("YAML document of the wrong shape", "The file must hold a mapping (key: value) at the top."),
    "duplicate_key": ("Key given twice in YAML", "Remove one; YAML would silently keep only the last."),
    "invalid_field": ("Specification field not valid", "Correct the field as the message says (see the JSON Schemas)."),
    "unsafe_name": ("Id or name cannot be used in file names",
                    "Use letters, digits, '_', '-' and '.' only (no spaces, slashes or '..')."),
    "unknown_spec_key": ("Key not part of the specification",
                         "Check the spelling against the JSON Schemas; unknown keys are ignored."),
    "yaml_too_large": ("Specification file too large", "Split or trim the file; specifications are small text files."),
    "yaml_too_deep": ("YAML nested too deeply",
                      "Check the brackets and indentation; specifications need only a few levels."),
    "yaml_text_too_long": ("Text value in a specification too long",
                           "Shorten it to a few sentences; keep long documents in separate files."),
    "yaml_alias": ("YAML aliases expand too far or refer to themselves",
                   "Write the values out instead of using &anchors and *aliases."),
    "unknown_scale": ("Item uses an undefined scale", "Define the scale in scales.yaml or correct the name."),
    "unknown_breakdown": ("Breakdown not declared by the framework",
                          "Declare it under `breakdowns:` in framework.yaml (id = the column of the population "
                          "table, title, values with their labels), or correct the id."),
    "area_breakdown": ("More than one area breakdown",
                       "Mark only the breakdown by the framework's board areas with area: true."),
    "unknown_coverage_indicator": ("coverage_indicator names an undefined indicator",
                                   "Name the id of the indicator that measures who gave their views, or remove the "
                                   "line."),
    "unknown_domain": ("Item uses an undefined domain", "Define the domain in framework.yaml or correct the name."),
    "indicator_missing_item": ("Indicator refers to an item that does not exist", "Correct the item id."),
    "missing_threshold": ("Threshold indicator without a threshold", "Add `threshold:` to the indicator."),
    "reverse_without_middle": ("Reverse-keyed item on a scale without a middle",
                               "Use a scale with a middle or drop the reverse key."),
    "missing_translation": ("Wording missing in a form language",
                            "Add a translation and review it with a community translator."),
    "undeclared_language": ("Wording in a language the framework does not declare",
                            "Add the language to framework.yaml or remove the text."),
    "unknown_code": ("Code not in the allowed list",
                     "Use one of the allowed codes the message lists (for a quote, a theme in the codebook), or map "
                     "your codes to ours with `values:` in the config."),
    "bad_evidence": ("Evidence entry not valid", "Correct the evidence entry as the message says."),
    "bad_score": ("Review score not valid", "Scores are 0-3, or blank for not yet scored."),
    "missing_section": ("Review file lacks a section", "Add the section, or start again from the template."),
    "no_project": ("Review file has no project name", "Name the project in the review file."),
    "unknown_approach": ("Review names an unknown Approach or Practice", "Use the names of the framework."),
    "unknown_question": ("Review answers an unknown question", "Use the question ids of the review template."),
    "redcap_name": ("Name REDCap will not accept",
                    "Use lower case letters, digits and _, start with a letter, at most 26 characters."),
    "missing_media": ("Media file not found",
                      "Put the audio or picture file in the framework folder, or correct its path."),
    "media_name_clash": ("Two media files share a file name", "Rename one: forms refer to media by file name only."),
    "pictorial_incomplete": ("Pictorial scale lacks a picture", "Give every substantive code of the scale a picture."),
    "duplicate_rating": ("Rater rates an item twice",
                         "Keep one rating per rater and item; correct the rater or item code."),
    "inconsistent_group": ("Rater listed in two rater groups",
                           "Give each rater one group (parent, practitioner, ...)."),
    # writing outputs (core/atomic.py)
    "unsafe_path": ("Output would land outside the output folder",
                    "Correct the id or name the file is named after (no '..' or slashes)."),
    "unwritable_output": ("Output folder cannot be written",
                          "Choose a folder you may write to, or ask for write access."),
    "key_file": ("Pseudonymisation key missing or unreadable",
                 "Give a readable key file or set MEASUREKIT_KEY (16+ characters)."),
    "output_overlaps_input": ("Output would overwrite an input",
                              "Choose an output folder or file outside every input, the framework and measurekit's "
                              "own data."),
    "output_not_ours": ("Output folder holds files measurekit did not make",
                        "Choose a new or empty folder, or move that folder's contents away first."),
    # linkage without a shared identifier (data/linkage_match.py, data/linkage_files.py); see docs/linkage.md
    "no_identifiers": ("Nothing to link responses on",
                       "Give a shared id (child_id, upn, nhs_number) or the identifiers families give (first_name, "
                       "last_name, date_of_birth, postcode, setting) in both files."),
    "review_decision": ("Clerical review decision not valid",
                        "Keep the review queue's columns; write accept or reject in 'decision', or leave it blank."),
    "internal_only": ("Linkage detail would go to a shareable folder",
                      "Write linkage output to an internal folder: it holds names, dates of birth and postcodes."),
    "identifier_in_shareable": ("A name, date of birth or postcode would be shared",
                                "Remove the identifier from the file, or keep the file in the internal folder; "
                                "identifiers are for linking only."),
    "output_locked": ("Another run is writing to the output folder",
                      "Wait for that run to finish, or choose another output folder."),
    # wording checks on item stems (design/wording.py)
    "reading_age": ("Reading age above the target", "Use shorter, everyday words and one short sentence."),
    "too_long": ("Question too long", "Cut qualifiers and examples; keep one idea."),
    "double_barrelled": ("Two ideas in one question", "Split the item, or keep the idea that matters."),
    "double_negative": ("Double negative", "Rewrite positively."),
    "negative_wording": ("Negative wording", "Prefer a positive statement."),
    "leading_wording": ("Leading wording", "Use neutral wording."),
    "jargon": ("Professional jargon", "Say it in everyday words, as people said it."),
    "translation_outdated": ("Translation made for an earlier wording", "Translate the new source wording again."),
    "open_findings": ("Saved with open wording problems", "Resolve them, or record why the wording is kept."),
    "translation_draft": ("Translation still a draft",
                          "Have it reviewed and back-translated by community translators."),
    "scale_inconsistent": ("Different scales in one domain", "Use one response scale per domain."),
    # statistics given data they cannot use (stats/)
    "invalid_input": ("Input cannot be used", "Read the message; it says what to change."),
    "no_items": ("No items to analyse", "Name at least the items the statistic needs."),
    "too_few_items": ("Too few items", "The statistic needs more items; see its documentation for the minimum."),
    "unknown_item": ("Item not in the data", "Check the item ids against the data's columns."),
    "unknown_key": ("Unknown key in a scoring mapping", "Use the keys the documentation lists."),
    "unknown_reverse": ("Reverse key names an item not in the scale", "Correct the item id."),
    "missing_item_column": ("Item column missing from the data", "Add the column, or score only the items present."),
    "non_numeric": ("Answers are not numbers", "Recode the answers to their numeric codes (see the scale)."),
    "all_missing": ("Column has no values", "Check the column; it is empty in the data given."),
    "constant_item": ("Item has no variation", "Leave the item out of this analysis; everyone gave the same answer."),
    "unknown_variable": ("Model names a variable not in the data", "Correct the model or add the column."),
    "one_group": ("Only one group", "Comparing groups needs at least two groups with data."),
    "small_group": ("Group too small", "Combine small groups, or report the result as indicative only."),
    "never_together": ("Items never answered together", "Their correlation is unknown: collect more answers, or "
                       "analyse the items apart."),
    "too_few_cases": ("Too few complete cases", "Collect more responses, or skip this analysis for now."),
    "unknown_reference": ("Reference group not in the data", "Name a group that occurs in the grouping column."),
    "aliased_predictor": ("Predictor constant or a combination of others",
                          "Leave it out; it carries no information the model does not already have."),
    "bad_option": ("Option value not valid", "Use one of the values the documentation lists."),
    "model_syntax": ("Model syntax cannot be read", "Write the model in lavaan syntax: 'f =~ x1 + x2 + x3' for "
                     "loadings, 'x1 ~~ x2' for a residual covariance (see docs/cfa.md)."),
    "infinite_value": ("Value is infinite", "Replace it with the real answer or leave it blank (missing)."),
    "not_identified": ("Model not identified", "Give each factor enough indicators (three for a single factor) or "
                       "fewer free parameters."),
    "not_item_codes": ("Values are not whole-number answer codes",
                       "Score items from their numeric codes (1, 2, 3, ...); give a plain score column to the "
                       "statistics that take scores, or declare the codes."),
    "missing_group": ("Group missing for some children", "Fill the value in, or code it as an explicit group "
                      "(e.g. 'unknown') so those children are counted."),
    # statistics over time (stats/trend.py, stats/target.py, stats/inequality.py, stats/funnel.py); docs/over_time.md
    "bad_period": ("Period not readable", "Write periods as years (2024), academic years (2023/24) or EES time "
                   "periods (202324), one kind in a series."),
    "duplicate_period": ("Period given twice in one series", "Keep one row per period (and per group); add the "
                         "counts up first if a period is split over rows."),
    "count_above_denominator": ("Count larger than its denominator", "Check the two columns: the numerator counts "
                                "children among the denominator's, so it cannot be larger."),
    "bad_target": ("Target not usable", "Give the target as a percentage (75 for 75%) and a period after the "
                   "latest data (2028, or 2027/28)."),
    "zero_count": ("A group has a count of 0 (or all children)", "The logit of 0% or 100% is infinite: combine "
                   "small groups, or use value_type='other' (no transformation)."),
    # disclosure control and the gate for shareable output (publish/)
    "small_count_published": ("A small count would be shared", "Suppress it (symbol c), or keep the file in the "
                              "internal folder; counts of 1-5 must never leave the building."),
    "unscanned_file": ("File the disclosure gate cannot read", "Move it to the internal folder, or share it as "
                       "CSV, Excel, JSON, HTML or Markdown so it can be checked."),
    "suppress_range": ("Suppression range is empty", "Set suppress_max at or above suppress_min (standard: 1 to 5)."),
    "weaker_disclosure": ("Disclosure rule weaker than the standard",
                          "Use the standard (counts of 1 to 5 suppressed), or add allow_weaker_disclosure: true and "
                          "the reason your information governance lead agreed."),
    "disclosure_audit_failed": ("Suppressed counts can be worked out", "Re-run disclosure control on the same table; "
                                "never edit a published board table by hand."),
    "board_table_unprotected": ("Board table without disclosure control", "Build it with disclosure control "
                                "(build_board_table(..., disclosure=True), the default) before writing or sharing it."),
    "disclosure_infeasible": ("No pattern of withheld rows protects this release",
                              "Publish fewer breakdowns or geographies, or (with a ledger) publish the same breakdowns "
                              "and geographies as the earlier release of these children; see docs/board_pack.md."),
    "small_areas_without_lookup": ("Small-area rows without their lookup", "Pass the small-area lookup (small_area, "
                                   "neighbourhood_code) so small areas are audited as parts of their areas."),
    "ledger_unreadable": ("Release ledger cannot be read", "Point --ledger at the folder measurekit wrote its "
                          "releases to; do not edit the files in it by hand (register an earlier release instead)."),
    "ledger_mismatch": ("Earlier release does not fit its record", "Register the earlier release with the table it "
                        "was made from (the same rows and the same published values)."),
    "ledger_small_change": ("Release too close to an earlier release of the same children",
                            "Keep the earlier release as it is, or publish the corrected figures when at least 10 "
                            "children have changed, or with the next period; see docs/board_pack.md (the ledger)."),
    "ledger_in_shareable": ("Release ledger inside a folder that is shared or replaced",
                            "Keep the ledger on the council network beside the pseudonymised data, outside the output "
                            "folder (it holds true counts, and the output folder is replaced on every run)."),
    # DfE open-data (EES) files (publish/ees.py, publish/ees_check.py); see docs/board_pack.md
    "ees_no_area": ("Framework does not declare its local authority",
                    "Add `area:` with the LA's codes to framework.yaml."),
    "ees_time_period": ("time_period not valid", "Academic years are six digits of consecutive years, e.g. 202425."),
    "ees_file_name": ("File name not valid for EES",
                      "Lower-case snake_case, no spaces or years; the metadata is <name>.meta.csv."),
    "ees_missing_column": ("Required EES column missing",
                           "Add the column (time_period, time_identifier, geographic_level, country_code, "
                           "country_name, ...)."),
    "ees_column_name": ("Column name not valid",
                        "Use snake_case (lower-case letters, digits, underscores), unique, at most 50 characters."),
    "ees_allowed_value": ("Value not in DfE's allowed list",
                          "Use a value from DfE's list (e.g. time_identifier 'Academic year', geographic_level 'Local "
                          "authority')."),
    "gss_code": ("Geography code not valid",
                 "GSS codes are 9 characters with the entity prefix (E92 country, E12 region, E06-E10 LA, E05 ward); "
                 "old_la_code is 3 digits."),
    "ees_blank": ("Blank cell",
                  "Fill the cell: a number, or a GSS symbol (c, x, z, low) in indicators; names and filters are never "
                  "blank."),
    "ees_symbol": ("Indicator value is neither a number nor a GSS symbol",
                   "Use a number, or c (confidential), x (not available), z (not applicable), low, u."),
    "ees_total": ("Filter without a Total", "Add the Total row for every filter (all children)."),
    "ees_duplicate_row": ("Two rows for the same time, place and filters", "Keep one row per combination."),
    "ees_meta": ("Metadata file disagrees with the data or the standard", "Correct the .meta.csv as the message says."),
    # information inventories and maps (mapping/); see docs/information_map.md
    "unknown_priority": ("Link to a priority the inventory does not define",
                         "Add the priority under 'priorities:' or correct the id."),
    "unknown_actor": ("Actor or system the inventory does not define", "Add it under 'actors:' or correct the id."),
    "unknown_information": ("Link to an information type that does not exist",
                            "Add the type under 'information:' or correct the id."),
    "information_cycle": ("Information goes round in a circle",
                          "Remove the 'feeds' link or the repeated actor that points back."),
    "unknown_voice_domain": ("Priority names a voice domain the framework lacks",
                             "Use a domain id of the framework given, or give the framework the inventory was written "
                             "for."),
    # two perspectives rating the same topics (stats/perspectives.py)
    "perspectives_required": ("Two perspectives to compare not named",
                              "Give perspectives=(first, second): two different values of the perspective column; "
                              "differences are first minus second."),
    "unknown_perspective": ("Perspective not in the data",
                            "Use a value the perspective column holds (check spelling and case)."),
    "group_varies": ("Group changes within one review",
                     "Give each person one value of the group column (locality, gender ...) per review."),
    # the data a framework declares (population, tables) and items in several domains (issue 26)
    "no_tables_declared": ("The framework declares no data tables",
                           "Declare `population:` and `tables:` in framework.yaml (the bundled framework shows how)."),
    "unknown_table": ("No such table in the framework",
                      "Use one of the table names the framework declares under `tables:`."),
    "bad_table_declaration": ("A data table is declared wrong",
                              "Correct the `population:` or `tables:` entry named (see the rule): columns, keys, "
                              "types and allowed values must fit together."),
    "duplicate_compound_key": ("The same combination of key columns twice",
                               "Each combination of the key columns (e.g. a person and a review round) may appear "
                               "once; remove or correct the repeated row."),
    "cross_loading_items": ("Items in several domains: no one-factor-per-domain model",
                            "Write the factor model yourself in lavaan syntax, or keep each item in one domain."),
    "missing_domain": ("Item without a domain", "Give the item `domain: <id>` or `domains: [<id>, ...]`."),
    "domain_mismatch": ("`domain` and `domains` disagree",
                        "Give only `domains` for an item in several domains (its first is its main domain)."),
    "bad_scale_range": ("A numeric scale declared wrong",
                        "Give `range: [low, high]` with whole numbers, low below high, and anchors within it; or "
                        "list the options instead."),
    # starting a framework of one's own (design/new_framework.py); see docs/framework.md
    "folder_not_empty": ("Folder is not empty",
                         "Give a new or empty folder for the new framework; new-framework never overwrites files."),
    "placeholder_code": ("A placeholder the framework must replace",
                         "Write your council's name and real codes in framework.yaml `area:` (DfE LA number, GSS "
                         "codes of the LA and region; the ONS Open Geography Portal lists them)."),
    "placeholder_text": ("Text still to be written (TODO)",
                         "Replace the TODO text with your own; check-spec passes meanwhile, but it shows in outputs."),
    # what still assumed one framework's tables and respondents (issues 25/26)
    "unknown_respondent": ("Respondent not named by the framework",
                           "Name one of the respondents the framework's items list (`respondents:` of an item), "
                           "e.g. respondent=... in Python."),
    "role_required": ("A column role the analysis needs was not given",
                      "Pass the column(s) named in the message, or declare them in framework.yaml `analysis:` "
                      "(the pipeline passes the framework's declared roles)."),
    "no_voice_table": ("The framework declares no voice table",
                       "Declare the survey responses as a table with `kind: voice` in framework.yaml `tables:`."),
}


def explain(code: str) -> str:
    """Title and advice for a problem code, for users who meet a code in a report."""
    title, advice = CATALOGUE.get(code, ("Unknown code", "This code is not in the catalogue."))
    return f"{code}: {title}. {advice}"



@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem.

    code: stable identifier of the kind of problem.
    message: plain-English explanation with advice.
    file: the file it was found in (name relative to the input folder), if any.
    row: 1-based data row number as a spreadsheet user sees it (header is row 1, first data row is 2),
         or None when the problem is not about one row.
    column: the column (or, for specifications, the path in the document, e.g. ``items[3].scale``).
    value: the offending value, as text.
    rule: the rule that was broken (e.g. ``enum: emerging|expected``, ``minimum: 0``).
    severity: "error", "warning" or "info".
    advice: what to do about this one problem; defaults to the catalogue's advice for the code.
    """

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    rule: str | None = None
    severity: str = "error"
    advice: str | None = None

    @property
    def title(self) -> str:
        """The catalogue's short title for this kind of problem."""
        return CATALOGUE.get(self.code, (self.code.replace("_", " "), ""))[0]

    def __post_init__(self):
        if self.row is not None:
            object.__setattr__(self, "row", int(self.row))
        if self.advice is None and self.code in CATALOGUE:
            object.__setattr__(self, "advice", CATALOGUE[self.code][1])
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def location(self) -> str:
        bits = [b for b in (self.file, f"row {self.row}" if self.row is not None else None, self.column) if b]
        return ", ".join(bits) if bits else "(whole input)"

    def __str__(self) -> str:
        value = "" if self.value is None else f" [value: {self.value!r}]"
        return f"{self.severity.upper()} {self.code} at {self.location()}{value}: {self.message}"


class ProblemReport:
    """An ordered collection of problems with table, text and HTML views."""

    COLUMNS = ["severity", "code", "file", "row", "column", "value", "rule", "message"]

    def __init__(self, problems: Iterable[Problem] = (), title: str = "Problems"):
        self.problems: list[Problem] = list(problems)
        self.title = title

    def add(self, code: str, message: str, **where) -> Problem:
        p = Problem(code=code, message=message, **where)
        self.problems.append(p)
        return p

    def extend(self, other: "ProblemReport | Iterable[Problem]") -> None:
        self.problems.extend(other.problems if isinstance(other, ProblemReport) else other)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self):
        return iter(self.problems)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [{c: getattr(p, c) for c in self.COLUMNS} for p in self.problems]
        frame = pd.DataFrame(rows, columns=self.COLUMNS)
        frame["row"] = frame["row"].astype("Int64")
        frame["value"] = frame["value"].map(lambda v: None if v is None else str(v))
        return frame

    def summary(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        return f"{self.title}: {n_err} error(s), {n_warn} warning(s)"

    def overview(self) -> list[str]:
        """One line per kind of problem (severity, code, file, column, rule), most frequent first, with how
        many rows have it and the first row and value: 1,471 rows with the same unknown code read as one
        line, not 1,471."""
        groups: dict[tuple, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault((p.severity, p.code, p.file, p.column, p.rule), []).append(p)
        lines = []
        for (severity, code, file, column, rule), ps in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            first = ps[0]
            where = ", ".join(b for b in (file, column) if b) or "(whole input)"
            example = f"first at row {first.row}" if first.row is not None else ""
            if first.value is not None:
                example += f"{', ' if example else ''}value {first.value!r}"
            values = {str(p.value) for p in ps if p.value is not None}
            if len(values) > 1:
                example += f" ({len(values):,} different values)"
            count = f"{len(ps):,} row(s)" if first.row is not None else f"{len(ps):,} time(s)"
            lines.append(f"{severity.upper()} {code} at {where}: {count}" + (f", {example}" if example else "")
                         + (f"; rule: {rule}" if rule else ""))
        return lines

    def to_text(self, limit: int | None = 200, report_file=None) -> str:
        """The summary and the first ``limit`` problems; ``report_file`` names the file holding them all
        (only when one was written: otherwise the text says how to write one)."""
        lines = [self.summary()]
        overview = self.overview()
        if len(overview) < len(self.problems):      # some problems repeat: say so before listing them one by one
            lines.append("  By file, column and rule:")
            lines += [f"    {o}" for o in overview[:30]]
            if len(overview) > 30:
                lines.append(f"    ... and {len(overview) - 30} more kinds")
            lines.append("  One by one:")
        shown = self.problems if limit is None else self.problems[:limit]
        lines += [f"  {p}" for p in shown]
        if limit is not None and len(self.problems) > limit:
            where = (f"see the full report file {report_file}" if report_file is not None
                     else "not shown; write them all to a file with --report FILE")
            lines.append(f"  ... and {len(self.problems) - limit} more ({where})")
        advice = list(dict.fromkeys((p.code, p.advice) for p in self.problems if p.advice))
        if advice:                       # the catalogue's advice, once per kind of problem (the first five kinds)
            lines.append("  What to do:")
            lines += [f"    {code}: {text}" for code, text in advice[:5]]
        return "\n".join(lines)

    def raise_if_errors(self, exc_type: type["InputError"] | None = None) -> None:
        if self.errors:
            raise (exc_type or InputError)(self)

    def _repr_html_(self) -> str:
        head = f"<p><b>{html.escape(self.summary())}</b></p>"
        if not self.problems:
            return head
        return head + self.to_frame().to_html(index=False, na_rep="")

    def __repr__(self) -> str:
        return self.to_text(limit=20)


class MeasurekitError(Exception):
    """Base class for errors raised by measurekit."""


class InputError(MeasurekitError, ValueError):
    """Input that cannot be used; ``.report`` holds every problem found."""

    def __init__(self, report: ProblemReport | str):
        if isinstance(report, str):
            report = ProblemReport([Problem("invalid_input", report)])
        self.report = report
        super().__init__(report.to_text(limit=50))

    @classmethod
    def of(cls, code: str, message: str, *, title: str = "Problems", **where) -> "InputError":
        """One problem with its catalogued ``code`` (and file, row, column, value, rule where known)."""
        return cls(ProblemReport([Problem(code, message, **where)], title=title))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.report.problems]
