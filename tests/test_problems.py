"""The catalogue of problem codes: every code the package can report is listed with a title and advice."""
import ast
from pathlib import Path

import measurekit
from measurekit.problems import CATALOGUE, Problem, ProblemReport, explain

SRC = Path(measurekit.__file__).parent


def _codes_in_source() -> dict[str, str]:
    """Codes passed to Problem(...), report.add(...), Finding.about(...) or as code=... anywhere in src.

    Read from the source text (AST), independently of the catalogue, so a new code that is not
    catalogued fails here.
    """
    found = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            args = node.args
            message = len(args) > 1 and isinstance(args[1], (ast.Constant, ast.JoinedStr, ast.BinOp))
            if (name == "Problem" or (name == "add" and message and len(args) == 2)) and args \
                    and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                found.setdefault(args[0].value, str(path.relative_to(SRC)))
            if name == "about" and len(args) > 2 and isinstance(args[2], ast.Constant):
                found.setdefault(args[2].value, str(path.relative_to(SRC)))
            for kw in node.keywords:
                if kw.arg == "code" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    found.setdefault(kw.value.value, str(path.relative_to(SRC)))
    # argparse's sub.add_parser("run", ...) is not a problem code
    return {c: f for c, f in found.items() if not f.startswith("cli/")}


def test_every_reported_code_is_catalogued():
    codes = _codes_in_source()
    assert len(codes) > 40
    missing = {c: f for c, f in codes.items() if c not in CATALOGUE}
    assert not missing, f"problem codes used but not in problems.CATALOGUE: {missing}"


def test_catalogue_entries_have_title_and_advice():
    for code, (title, advice) in CATALOGUE.items():
        assert code == code.lower() and " " not in code, code
        assert len(title) > 5 and len(advice) > 10, code


def test_problem_takes_advice_from_catalogue_unless_given():
    p = Problem("wrong_type", "fsm must be a whole number", file="children.csv", row=3, column="fsm", value="Y")
    assert p.advice == CATALOGUE["wrong_type"][1] and p.title == CATALOGUE["wrong_type"][0]
    q = Problem("wrong_type", "x", advice="Use 0 or 1.")
    assert q.advice == "Use 0 or 1."
    assert explain("wrong_type").startswith("wrong_type: ")
    assert "not in the catalogue" in explain("no_such_code")


def test_wording_findings_are_problems():
    from measurekit.design.wording import check_stem

    found = check_stem("Staff and parents help with the EHCP process and the setting", "x1", "en")
    assert found and all(isinstance(f, Problem) for f in found)
    report = ProblemReport(found)
    assert report.codes() <= set(CATALOGUE)
    assert all(f.suggestion and f.item == "x1" and f.language == "en" for f in found)


def test_repeated_problems_are_counted_in_one_line_before_the_list():
    from measurekit.problems import Problem, ProblemReport

    report = ProblemReport([Problem("unknown_code", "bad sex", file="children.csv", row=r, column="sex", value="f",
                                    rule="enum: F|M") for r in range(2, 1502)]
                           + [Problem("wrong_type", "fsm not a number", file="children.csv", row=7, column="fsm",
                                      value="yes", rule="type: integer")])
    overview = report.overview()
    assert len(overview) == 2
    assert overview[0].startswith("ERROR unknown_code at children.csv, sex: 1,500 row(s), first at row 2, value 'f'")
    assert "1 row(s)" in overview[1] and "fsm" in overview[1]
    text = report.to_text(limit=10)
    assert text.index("1,500 row(s)") < text.index("One by one") and text.count("\n") < 20
    single = ProblemReport([Problem("missing_file", "no children file", file="children.csv")])
    assert "By file, column and rule" not in single.to_text()      # nothing repeats: no overview
