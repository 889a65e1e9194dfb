"""The ``measurekit`` command's options: one parser per subcommand.

Kept apart from the work (``cli/commands.py``) so that ``measurekit --help`` imports nothing heavy.
Each subcommand names the function in ``commands`` that carries it out.
"""
from __future__ import annotations

import argparse
from pathlib import Path

LEDGER_HELP = ("the release ledger folder (INTERNAL: it holds true counts; keep it on the council network, never in "
               "or under the output folder): the pack is audited with the earlier releases recorded there and "
               "recorded there after it is written (default: none, and the README says no earlier release was "
               "checked)")
FRAMEWORK_HELP = ("the framework the data were collected with: its folder (framework.yaml, items.yaml ...) or the name "
                  "of a framework shipped with measurekit; required except with the bundled demo data")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="measurekit",
        description=(
            "Build voice-informed indicators for children and families, trial them against "
            "routine data (EYFSP/GLD, ASQ-3), and publish neighbourhood board packs."
        ),
        epilog="Run 'measurekit COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, target: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(_target=target)
        return p

    p = add("run", "run",
            "Run the whole trial on one folder of data: validate, link, score, check reliability "
            "and fairness, measure added value and coverage, and write the board pack and a trial report. On a "
            "folder of academic years (one subfolder per year): the one-year analyses of the latest year (or "
            "--period), the statistics over time of every year and the board pack of every year.")
    p.add_argument("--data", type=Path, default=None,
                   help="folder of input files (default: the bundled synthetic cohort)")
    p.add_argument("--framework", default=None, help=FRAMEWORK_HELP)
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: ./out)")
    p.add_argument("--config", type=Path, default=None, help="YAML file mapping your column names to ours")
    p.add_argument("--trial-sample", type=_trial_sample, default="auto", metavar="N|all",
                   help="how many respondents reliability, fairness, added value and the measurement evidence use: "
                        "a random sample of N, or all of them (default: all of them up to 20,000, else a random "
                        "sample of 20,000, as a national cohort needs); linkage, coverage and the board pack "
                        "always use every child")
    p.add_argument("--profile", action="store_true",
                   help="also print where the time went: each step's share and the slowest functions (cProfile)")
    p.add_argument("--period", default=None, metavar="YYYY/YY",
                   help="with a data folder of academic years: the year the one-year analyses (linkage, reliability, "
                        "fairness, added value, trial report) use (default: the latest); the over-time statistics "
                        "and the board pack always use every year")

    p.add_argument("--ledger", type=Path, default=None, metavar="DIR",
                   help=LEDGER_HELP)

    p = add("synth", "synth",
            "Make synthetic data with known ground truth, for practice and testing: a reception cohort (children, "
            "EYFSP, ASQ-3, parent and practitioner voice responses, a later outcome) for a framework with an EYFSP "
            "table; for any other framework, its declared tables (routine and voice, several review rounds) as its "
            "synthetic.yaml shapes them.")
    p.add_argument("--n", type=int, default=3000, help="number of children or people (default 3000)")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same bytes (default 1)")
    p.add_argument("--out", type=Path, required=True, help="folder to write the files into")
    p.add_argument("--framework", required=True,
                   help="the framework whose items define the voice questionnaire: its folder, or the name of a "
                        "framework shipped with measurekit; later steps on these data take the same --framework")
    p.add_argument("--identifiers", action="store_true",
                   help="also give children legal names, postcodes and settings, and write survey_responses.csv "
                        "with the identifiers as families give them (errors at documented rates; true links in "
                        "ground_truth.json), for practising linkage without a shared id (docs/linkage.md)")
    p.add_argument("--years", default=None, metavar="YYYY/YY-YYYY/YY",
                   help="several academic years, e.g. 2021/22-2025/26: one folder per year (each --n children or "
                        "people). With an EYFSP table: planted trends by area, FSM gaps that narrow and widen, a "
                        "boundary change and children followed from the ASQ-3 at two to the EYFSP at five; with "
                        "declared tables: different people each year, review rounds within it and a trend planted "
                        "in one topic by area (docs/over_time.md)")

    p = add("validate", "validate",
            "Check every input file in a folder against its schema and report every problem "
            "(file, row, column, value, rule). Exits with status 1 if there are errors. Never changes the files.")
    p.add_argument("data", type=Path, help="folder holding children.csv, eyfsp.csv, ... (CSV or Excel)")
    p.add_argument("--framework", default=None, help=FRAMEWORK_HELP)
    p.add_argument("--config", type=Path, default=None, help="YAML file mapping your column names to ours")
    p.add_argument("--report", type=Path, default=None, help="also write the full report to this CSV file")

    p = add("link", "link",
            "Link survey responses to children's routine records on the child identifier and "
            "report matches, non-matches, duplicates and how unmatched records differ.")
    p.add_argument("data", type=Path, help="folder of input files")
    p.add_argument("--framework", default=None, help=FRAMEWORK_HELP)
    p.add_argument("--config", type=Path, default=None, help="YAML file mapping your column names to ours")
    p.add_argument("--out", type=Path, required=True, help="folder for the linked file and the linkage report")
    p.add_argument("--pseudonymise", action="store_true",
                   help="replace child identifiers with a keyed hash (key from MEASUREKIT_KEY or --key-file)")
    p.add_argument("--key-file", type=Path, default=None, help="file holding the secret key for --pseudonymise")
    p.add_argument("--responses", type=Path, default=None,
                   help="survey responses without a reliable child id (CSV: response_id, the identifiers families "
                        "give - first_name, last_name, date_of_birth, postcode, setting - and the answers): linked "
                        "on a shared id where given, probabilistically on the identifiers for the rest; they take "
                        "the place of voice_parent. --out must then be an internal folder (never 'shareable')")
    p.add_argument("--lower", type=_probability, default=0.5,
                   help="match probability below which a response's best candidate is not linked (default 0.5)")
    p.add_argument("--upper", type=_probability, default=0.95,
                   help="match probability at or above which it links; between --lower and --upper it goes to "
                        "the clerical review queue, review_queue.csv (default 0.95)")
    p.add_argument("--decisions", type=Path, default=None,
                   help="a filled-in review queue (decision = accept or reject); decisions are kept by response_id "
                        "and child_id and apply again on every re-run")

    p = add("check-spec", "check_spec",
            "Load a framework folder, report every specification problem, and run the item-writing "
            "checks (reading age, double-barrelled and leading wording, jargon, translations).")
    p.add_argument("framework", type=Path, help="framework folder")
    p.add_argument("--reading-age", type=float, default=9.0, help="target reading age in years (default 9)")

    p = add("export-form", "export_form",
            "Export the framework's items for fielding: an XLSForm for ODK/KoboToolbox, a REDCap "
            "data dictionary, or a printable HTML form per language.")
    p.add_argument("framework", type=Path, help="framework folder")
    p.add_argument("--format", choices=["xlsform", "redcap", "html"], required=True)
    p.add_argument("--out", type=Path, required=True, help="output file (.xlsx, .csv) or folder (html)")
    p.add_argument("--respondent", default=None,
                   help="the respondent the form is for (one of those the items name, e.g. the person or a "
                        "professional); default: one form for each respondent the framework declares")

    p = add("board-pack", "board_pack",
            "Write the neighbourhood board pack: a long indicator table with intervals and "
            "disclosure control, a Frictionless data package, an Excel workbook, indicator "
            "specification sheets and an HTML briefing per neighbourhood.")
    p.add_argument("--framework", default=None, help=FRAMEWORK_HELP)
    p.add_argument("--data", type=Path, required=True, help="folder of input files")
    p.add_argument("--out", type=Path, required=True,
                   help="output folder (replaced only when the new pack is complete)")
    p.add_argument("--period", default=None, help="period label, e.g. 2025/26 (default: from the data)")
    p.add_argument("--config", type=Path, default=None, help="YAML file mapping your column names to ours")
    p.add_argument("--ledger", type=Path, default=None, metavar="DIR", help=LEDGER_HELP)
    p.add_argument("--label", default=None, help="the pack's name in the ledger (default: 'board pack <period>')")
    p.add_argument("--shares-children-with", action="append", default=[], metavar="PERIOD",
                   help="an earlier period whose releases in the ledger are about some of the same children (e.g. "
                        "2024/25 for next year's pack of a mixed-age cohort); they are audited with this pack. "
                        "Repeat for several. The pack has no child ids, so this is declared, never detected")

    p = add("ledger", "ledger",
            "The release ledger: list the releases it records, or register a release published before the ledger "
            "existed (from its board_table.csv and the data it was made from), so later packs are audited with it.")
    p.add_argument("action", choices=["list", "register"], help="list the releases, or register an earlier one")
    p.add_argument("--ledger", type=Path, required=True, metavar="DIR", help=LEDGER_HELP)
    p.add_argument("--published", type=Path, default=None,
                   help="register: the board_table.csv of the earlier release, as it was published")
    p.add_argument("--data", type=Path, default=None, help="register: the folder of input files as they were then")
    p.add_argument("--framework", default=None, help=FRAMEWORK_HELP)
    p.add_argument("--config", type=Path, default=None, help="YAML file mapping your column names to ours")
    p.add_argument("--period", default=None,
                   help="register: the period label the release used (default: the period in --published)")
    p.add_argument("--label", default=None, help="register: the release's name in the ledger")

    p = add("over-time", "over_time",
            "The statistics over time from a data folder holding one subfolder per academic year: each area's "
            "series, Fingertips trend markers, change from the previous year, progress to the framework's targets, "
            "SII/RII by deprivation decile, the FSM gap and its trend, the latest year's funnel comparison and "
            "children followed from two to five. Writes internal CSV tables (not for sharing: small counts).")
    p.add_argument("--framework", default=None, help=FRAMEWORK_HELP)
    p.add_argument("--data", type=Path, required=True, help="folder of period folders (2021-22/, 2022-23/ ...)")
    p.add_argument("--out", type=Path, required=True, help="output folder (replaced only when complete)")
    p.add_argument("--config", type=Path, default=None, help="YAML file mapping your column names to ours")
    p.add_argument("--seed", type=int, default=1,
                   help="random seed of the Monte Carlo limits of the SII and the added-value bootstrap (default 1)")

    p = add("check-ees", "check_ees",
            "Check a DfE open-data (explore-education-statistics) CSV and its .meta.csv against the main rules "
            "of DfE's data screener; report every failure with its row and rule. Exits with status 1 on errors.")
    p.add_argument("file", type=Path, help="the data file, e.g. board_pack/<framework name>.csv")
    p.add_argument("--meta", type=Path, default=None,
                   help="the metadata file (default: <file name>.meta.csv beside it)")
    p.add_argument("--report", type=Path, default=None, help="also write the full report to this CSV file")

    p = add("map", "information_map",
            "Map an information inventory (YAML): which information reaches the strategic priorities, whose "
            "voices are lost on the way, who carries information across boundaries; writes an accessible map "
            "(SVG), a page (HTML) and the tables (CSV). Exits with status 1 if the inventory has errors.")
    p.add_argument("inventory", type=Path,
                   help="the inventory file, e.g. data/information_map/early_years_inventory.yaml")
    p.add_argument("--out", type=Path, required=True,
                   help="output folder (replaced whole when the map is complete; a new or empty folder, or one "
                        "measurekit made; never one that holds the inventory)")
    p.add_argument("--framework", type=Path, default=None,
                   help="framework folder (or a shipped framework's name) whose voice indicators could bring unused "
                        "voice sources to a priority")

    p = add("new-framework", "new_framework",
            "Start a framework of your own: write a minimal, valid, commented framework (framework.yaml, scales, "
            "items, indicators and a synthetic.yaml) into a new folder for you to edit (docs/framework.md). "
            "check-spec refuses it until your council's codes replace the placeholders.")
    p.add_argument("folder", type=Path, help="the new framework's folder (must not exist, or be empty)")
    p.add_argument("--name", default=None, help="the framework's name (default: the folder's name)")
    p.add_argument("--title", default=None, help="its title, e.g. 'Family help as families see it'")
    p.add_argument("--la-name", default=None, help="your council's name")
    p.add_argument("--la-code", default=None, help="your council's GSS code (E06, E07, E08, E09 or E10 + 6 digits)")
    p.add_argument("--old-la-code", default=None, help="your council's three-digit DfE LA number")
    p.add_argument("--region-code", default=None, help="your region's GSS code (E12 + 6 digits)")
    p.add_argument("--region-name", default=None, help="your region's name")
    p.add_argument("--area-word", default="area",
                   help="the word for the areas your board looks at, e.g. locality (default: area)")
    p.add_argument("--area-word-plural", default=None,
                   help="its plural, when adding s, es or ies does not make it (e.g. 'areas of need')")
    p.add_argument("--id-prefix", default="FH",
                   help="capital letters starting each person's reference in synthetic data and forms (default FH)")
    return parser


def _version() -> str:
    from measurekit import __version__

    return __version__


def _trial_sample(text: str) -> int | str:
    """``--trial-sample``: a whole number of respondents (at least 50), "all" or "auto"."""
    if text in ("all", "auto"):
        return text
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of respondents or 'all'") from None
    if n < 50:
        raise argparse.ArgumentTypeError(f"{n} respondents are too few for the trial analyses: give at least 50, "
                                         "or 'all'")
    return n


def _probability(text: str) -> float:
    """``--lower``/``--upper``: a match probability strictly between 0 and 1."""
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a probability (a number between 0 and 1)") from None
    if not 0 < p < 1:
        raise argparse.ArgumentTypeError(f"{text} is not strictly between 0 and 1")
    return p
