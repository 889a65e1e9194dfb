"""What each ``measurekit`` subcommand does: read its options, call the library, print a summary.

One function per subcommand, ``<name>(args) -> exit status``. The library functions they call
never print to the console or parse options themselves, so notebooks and other programs call
the same code without going through the command line.
"""
from __future__ import annotations


def _framework(args):
    """The framework a data command uses: ``--framework``, or the demo framework with the bundled demo data only."""
    from measurekit.design.choose import choose_framework

    return choose_framework(args.framework, data=args.data, option="--framework")


def _guard(out, *inputs, folder: bool = True, command: str = "output") -> None:
    """Refuse, before anything is written, an output that is, holds or lies inside an input or measurekit's own
    data, or that would replace a folder measurekit did not make (``core.paths.check_output``)."""
    from measurekit.core.paths import check_output

    check_output(out, inputs=[i for i in inputs if i is not None], folder=folder, command=command)


def _framework_folder(args, data=None):
    from measurekit.design.choose import framework_path

    return framework_path(args.framework, data=data, option="--framework")


def run(args) -> int:
    from measurekit.core.paths import bundled_data
    from measurekit.pipeline.run import run as run_pipeline

    _guard(args.out, args.data or bundled_data(), _framework_folder(args, args.data), args.config)
    if getattr(args, "ledger", None) is not None:     # the ledger is written to: never inside an input
        _guard(args.ledger, args.data or bundled_data(), _framework_folder(args, args.data), args.config,
               folder=False, command="ledger")
    run_pipeline(args.data, framework=args.framework, out=args.out, config=args.config, trial_sample=args.trial_sample,
                 profile=getattr(args, "profile", False), ledger=getattr(args, "ledger", None),
                 period=getattr(args, "period", None))
    return 0


def synth(args) -> int:
    from measurekit.core import atomic
    from measurekit.core.paths import MARKER, marker_text
    from measurekit.design.choose import framework_path
    from measurekit.synth.cohort import make_cohort, write_cohort

    framework = framework_path(args.framework, option="--framework")
    _guard(args.out, framework, command="synth")
    from measurekit.design import load_framework
    from measurekit.synth.declared import uses_declared, write_declared_cohort

    fw = load_framework(framework)
    if uses_declared(fw) and getattr(args, "years", None):
        return _synth_declared_years(args, fw)
    if uses_declared(fw):
        # a framework that declares its own tables (no EYFSP): made from its declaration and synthetic.yaml
        cohort = make_cohort(n=args.n, random_state=args.seed, framework=fw,
                             identifiers=getattr(args, "identifiers", False))
        write_declared_cohort(cohort, args.out)
        atomic.write_text(args.out / MARKER, marker_text("synth"))
        truth = cohort.ground_truth or {}
        rows = {name: len(t) for name, t in cohort.tables.items()}
        people = fw.population.people if fw.population is not None else "people"
        print(f"Wrote synthetic data for {args.n} {people} to {args.out} "
              f"({truth.get('rounds', 1)} review rounds; rows: "
              + ", ".join(f"{k} {v:,}" for k, v in rows.items()) + "; planted truth in ground_truth.json).")
        return 0
    if getattr(args, "years", None):
        return _synth_years(args, framework)
    cohort = make_cohort(n=args.n, random_state=args.seed, framework=framework,
                         identifiers=getattr(args, "identifiers", False))
    write_cohort(cohort, args.out)
    atomic.write_text(args.out / MARKER, marker_text("synth"))
    f = cohort.analysis_frame()
    print(f"Wrote a synthetic cohort of {len(f)} children to {args.out} "
          f"(GLD {f['gld'].mean():.1%}, parent response {f['responded'].mean():.1%}).")
    return 0


def _synth_years(args, framework) -> int:
    """``measurekit synth --years 2021/22-2025/26``: one folder per academic year (synth/over_time.py)."""
    from measurekit.core import atomic
    from measurekit.core.paths import MARKER, marker_text
    from measurekit.synth.over_time import make_periods, write_periods

    if getattr(args, "identifiers", False):
        from measurekit.problems import InputError

        raise InputError.of("bad_option", "--identifiers and --years cannot be combined.", column="--identifiers")
    result = make_periods(args.years, n=args.n, random_state=args.seed, framework=framework)
    write_periods(result, args.out)
    atomic.write_text(args.out / MARKER, marker_text("synth"))
    print(f"Wrote synthetic cohorts of {args.n} children for {len(result.cohorts)} academic years "
          f"({', '.join(result.cohorts)}) to {args.out}, one folder per year; planted trends, gaps, a boundary "
          "change and the follow-up from two to five in ground_truth.json.")
    return 0


def _synth_declared_years(args, fw) -> int:
    """``measurekit synth --years`` for a framework that declares its tables: one folder per academic year
    (synth/over_time.py ``make_declared_periods``, each year made by synth/declared.py)."""
    from measurekit.core import atomic
    from measurekit.core.paths import MARKER, marker_text
    from measurekit.synth.over_time import make_declared_periods, write_declared_periods

    if getattr(args, "identifiers", False):
        from measurekit.problems import InputError

        raise InputError.of("bad_option", "--identifiers and --years cannot be combined.", column="--identifiers")
    result = make_declared_periods(args.years, n=args.n, random_state=args.seed, framework=fw)
    write_declared_periods(result, args.out)
    atomic.write_text(args.out / MARKER, marker_text("synth"))
    plan = result.ground_truth["plan"]
    people = fw.population.people if fw.population is not None else "people"
    print(f"Wrote synthetic data for {args.n} {people} a year for {len(result.cohorts)} academic years "
          f"({', '.join(result.cohorts)}) to {args.out}, one folder per year (review rounds within each); planted: "
          f"a trend in {plan['item']!r} by area ({', '.join(f'{v} {k}' for k, v in plan['roles'].items())}), in "
          "ground_truth.json.")
    return 0


def over_time(args) -> int:
    """``measurekit over-time``: the over-time tables of a multi-period data folder (stats/over_time.py)."""
    from measurekit.data.periods import read_periods
    from measurekit.stats.over_time import over_time as compute
    from measurekit.stats.over_time import write_over_time

    fw = _framework(args)
    _guard(args.out, args.data, args.config, fw.path)
    periods = read_periods(args.data, config=args.config, framework=fw)
    for p in periods.report.warnings:
        print("Note:", p)
    result = compute(periods, framework=fw, random_state=args.seed)
    files = write_over_time(result, args.out)
    for line in result.summary:
        print(line)
    print(f"{len(files)} tables written to {args.out} (internal: they hold unsuppressed counts).")
    return 0


def validate(args) -> int:
    from measurekit.data import validate_dir

    fw = _framework(args)
    if args.report:
        _guard(args.report, args.data, args.config, fw.path, folder=False)
    report = validate_dir(args.data, config=args.config, framework=fw)
    if args.report:
        from measurekit.core import atomic

        atomic.write_csv(args.report, report.to_frame())
    print(report.to_text(limit=100, report_file=args.report))
    if args.report:
        print(f"Full report written to {args.report}")
    if report.ok:
        print("No errors: the files can be used.")
    return 0 if report.ok else 1


def link(args) -> int:
    from measurekit.core import atomic
    from measurekit.data import link as link_cohort
    from measurekit.data import read_dir

    fw = _framework(args)
    _guard(args.out, args.data, args.config, args.key_file, fw.path, getattr(args, "responses", None),
           getattr(args, "decisions", None))
    key = None
    if args.pseudonymise or args.key_file is not None:      # a key file means the user wants pseudonyms
        from measurekit.data.pseudonymise import load_key

        key = load_key(args.key_file)
    cohort = read_dir(args.data, config=args.config, framework=fw)
    if getattr(args, "responses", None) is not None:
        from measurekit.data.linkage_files import check_internal, read_responses
        from measurekit.data.linkage_review import read_decisions

        check_internal(args.out)
        responses = read_responses(args.responses, cohort.framework)
        decisions = read_decisions(args.decisions) if args.decisions is not None else None
        result = link_cohort(cohort, key=key, responses=responses, lower=args.lower, upper=args.upper,
                             decisions=decisions)
    else:
        result = link_cohort(cohort, key=key)
    with atomic.atomic_directory(args.out) as out:
        atomic.write_csv(out / "linked.csv", result.linked)
        atomic.write_csv(out / "linkage_summary.csv", result.summary)
        atomic.write_csv(out / "linkage_comparison.csv", result.comparison)
        atomic.write_csv(out / "unmatched_responses.csv", result.unmatched_responses)
        atomic.write_csv(out / "duplicate_responses.csv", result.duplicates)
        if result.matches is not None:
            from measurekit.data.linkage_files import write_linkage_detail

            write_linkage_detail(out, result)
    print(result.summary.to_string(index=False))
    for w in result.warnings:
        print("Note:", w)
    print(f"Linked data and the linkage report are in {args.out}")
    if result.review is not None and len(result.review):
        print(f"Clerical review: fill in 'decision' in {args.out / 'review_queue.csv'} (accept or reject), save it "
              "outside that folder, and re-run with --decisions FILE.")
    return 0


def check_spec(args) -> int:
    from measurekit.design import check_framework, load_framework
    from measurekit.design.evidence import load_evidence
    from measurekit.design.new_framework import placeholder_problems
    from measurekit.design.trace import traceability
    from measurekit.design.wording import CheckConfig, check_items

    report = check_framework(args.framework)
    if report.ok:   # the files have passed the one guarded reader (depth, size, duplicate keys) before this re-read
        report.extend(placeholder_problems(args.framework))     # new-framework's placeholders (docs/framework.md)
    print(report.to_text(limit=100))
    if not report.ok:
        return 1
    fw = load_framework(args.framework)
    assert fw.path is not None   # load_framework records the folder it read
    print(f"{len(fw.items)} items in {len(fw.domains)} domains, {len(fw.indicators)} indicators, "
          f"languages {', '.join(fw.languages)}.")
    findings = check_items(fw, CheckConfig(reading_age=args.reading_age))
    print(f"\nItem-writing checks: {len(findings)} finding(s)")
    for f in findings.itertuples():
        print(f"  [{f.severity}] {f.item} ({f.language}) {f.code}: {f.message} Try: {f.suggestion}")
    if (fw.path / "evidence" / "quotes.csv").exists():
        trace = traceability(fw, load_evidence(fw))
        uncovered = trace["themes"][~trace["themes"]["covered"]]
        no_evidence = trace["items"][~trace["items"]["has_evidence"]]
        print(f"\nTraceability: {len(uncovered)} theme(s) no item covers"
              + (": " + ", ".join(uncovered["name"]) if len(uncovered) else "")
              + f"; {len(no_evidence)} item(s) without voice evidence"
              + (": " + ", ".join(no_evidence["item"]) if len(no_evidence) else "") + ".")
    return 0


def export_form(args) -> int:
    from measurekit.design.forms import export_form as write_form

    _guard(args.out, args.framework, folder=False)
    for p in write_form(args.framework, args.format, args.out, respondent=getattr(args, "respondent", None)):
        print(f"Wrote {p}")
    return 0


def board_pack(args) -> int:
    from measurekit.data import read_dir
    from measurekit.publish.board_pack import write_board_pack

    fw = _framework(args)
    _guard(args.out, args.data, args.config, fw.path)
    if getattr(args, "ledger", None) is not None:     # the ledger is written to: never inside an input
        _guard(args.ledger, args.data, args.config, fw.path, folder=False, command="ledger")
    from measurekit.data.periods import is_period_folder

    if is_period_folder(args.data):     # one subfolder per academic year: the pack carries every period
        files = _board_pack_over_time(args, fw)
        for label, path in files.items():
            print(f"  {label:<12} {path}")
        return 0
    cohort = read_dir(args.data, config=args.config, framework=fw)
    files = write_board_pack(fw, cohort, args.out, period=args.period, ledger=getattr(args, "ledger", None),
                             label=getattr(args, "label", None),
                             shares_children_with=getattr(args, "shares_children_with", None) or ())
    for label, path in files.items():
        print(f"  {label:<12} {path}")
    if getattr(args, "ledger", None) is None:
        print("No release ledger given (--ledger DIR): no earlier release was checked; the pack's README says so.")
    return 0


def _board_pack_over_time(args, fw) -> dict:
    """``board-pack`` on a multi-period data folder (publish/over_time_pack.py): every period read and validated
    (errors in any period or across periods stop it, as ``read_dir`` does for one), one pack over all periods."""
    from measurekit.data.periods import read_periods
    from measurekit.publish.board_pack import write_board_pack_over_time

    if args.period:
        from measurekit.problems import InputError

        raise InputError.of("period_option_multi", "--period names the period of a one-year data folder; this folder "
                            "holds one subfolder per academic year, which name the periods.", column="--period",
                            value=str(args.period), rule="no --period with a multi-period folder")
    periods = read_periods(args.data, config=args.config, framework=fw)
    files = write_board_pack_over_time(fw, periods, args.out, ledger=getattr(args, "ledger", None),
                                       label=getattr(args, "label", None))
    if getattr(args, "ledger", None) is None:
        print("No release ledger given (--ledger DIR): no earlier release was checked; the pack's README says so.")
    return files


def ledger(args) -> int:
    """``measurekit ledger list|register``: the release ledger (publish/ledger.py)."""
    from measurekit.publish.ledger import Ledger

    led = Ledger(args.ledger)
    if args.action == "list":
        table = led.summary()
        print(table.to_string(index=False) if len(table) else f"No release recorded in {args.ledger}.")
        return 0
    from measurekit.problems import InputError

    missing = [o for o, v in (("--published", args.published), ("--data", args.data)) if v is None]
    if missing:
        raise InputError.of("ledger_mismatch", "register needs the published board table and the data it was made "
                            f"from: give {' and '.join(missing)}", column=missing[0],
                            rule="an earlier release is registered with the table it was made from")
    import pandas as pd

    from measurekit.data import read_dir
    from measurekit.publish.board_table import build_board_table, small_area_lookup

    fw = _framework(args)
    _guard(args.ledger, args.data, args.config, args.published, fw.path, folder=False, command="ledger")
    pub = pd.read_csv(args.published, dtype=str, keep_default_na=False)
    period = args.period or (pub["period"].iloc[0] if "period" in pub and len(pub) else None)
    small = bool("geography_type" in pub and pub["geography_type"].eq("small_area").any())
    cohort = read_dir(args.data, config=args.config, framework=fw)
    counts = build_board_table(cohort, framework=fw, period=period, small_areas=small, disclosure=False).rows
    nesting = None
    if small:
        lk = small_area_lookup(cohort)
        nesting = dict(zip(lk["small_area"].astype(str), lk["neighbourhood_code"].astype(str)))
    folder = led.register(args.published, counts, label=args.label or f"registered {args.published.name} {period}",
                          nesting=nesting)
    print(f"Registered {args.published} (period {period}) in the release ledger: {folder}")
    return 0


def check_ees(args) -> int:
    from measurekit.publish.ees_check import check_ees as check

    if args.report:
        _guard(args.report, args.file, args.meta, folder=False)
    report = check(args.file, args.meta)
    print(report.to_text(limit=100))
    if args.report:
        from measurekit.core import atomic

        atomic.write_csv(args.report, report.to_frame())
        print(f"Full report written to {args.report}")
    if report.ok:
        print("No errors against the screener rules measurekit checks (see measurekit.publish.ees_check); "
              "run DfE's own screener before uploading to EES.")
    return 0 if report.ok else 1


def information_map(args) -> int:
    from measurekit.mapping.analysis import information_map as analyse
    from measurekit.mapping.reading import check_inventory, read_inventory
    from measurekit.mapping.writing import write_information_map

    framework = None if args.framework is None else _framework_folder(args)
    _guard(args.out, args.inventory, framework, command="map")
    report = check_inventory(args.inventory)
    if not report.ok:
        print(report.to_text(limit=100))
        return 1
    if len(report):
        print(report.to_text(limit=20))
    result = analyse(read_inventory(args.inventory), framework=framework)
    files = write_information_map(result, args.out, inputs=[framework])
    for finding in result.findings + result.warnings:
        print("-", finding)
    print(f"The map, the page and the tables are in {args.out} (open {files['information_map.html'].name}).")
    return 0


def new_framework(args) -> int:
    from measurekit.design.new_framework import placeholder_problems, write_new_framework

    folder = write_new_framework(args.folder, name=args.name, title=args.title, la_name=args.la_name,
                                 la_code=args.la_code, old_la_code=args.old_la_code, region_code=args.region_code,
                                 region_name=args.region_name, area_word=args.area_word,
                                 area_words=args.area_word_plural, id_prefix=args.id_prefix)
    left = placeholder_problems(folder)
    print(f"Wrote a new framework to {folder}: framework.yaml, scales.yaml, items.yaml, indicators.yaml, "
          "synthetic.yaml.")
    if left.errors:
        print(f"Before check-spec passes, replace the {len(left.errors)} placeholder(s) in framework.yaml `area:` "
              "(your council's name and codes).")
    print(f"Next: edit the files (docs/framework.md), then 'measurekit check-spec {folder}'; try it with "
          f"'measurekit synth --framework {folder} --n 500 --out <folder>'.")
    return 0
