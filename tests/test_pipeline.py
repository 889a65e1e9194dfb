"""The main job (`measurekit run`) on the bundled cohort and on a second seed."""
import subprocess
import sys

import pandas as pd

from measurekit.pipeline.run import run


def test_main_job_writes_reports(tmp_path):
    out = tmp_path / "out"
    ctx = run(out=out, log=lambda *_: None)
    for rel in ctx.files.values():
        assert (out / rel).exists(), rel
    html = (out / "trial_report.html").read_text()
    assert "Linkage and who responded" in html and "<img" in html and "http" not in html.split("<body>")[1][:2000]
    summary = pd.read_csv(out / "linkage" / "linkage_summary.csv")
    assert summary.loc[summary.measure == "children in the cohort", "count"].item() == 3000
    from frictionless import Package

    report = Package(str(out / "board_pack" / "datapackage.json")).validate()
    assert report.valid
    assert len(list((out / "board_pack" / "briefing").glob("*.html"))) == 5
    dif = pd.read_csv(out / "fairness" / "dif_home_language.csv")
    assert dif.loc[dif["flag"], "item"].tolist() == ["sv4"]
    assert "Fairness across language and poverty groups" in html and "Added value: Year 1 phonics" in html


def test_second_seed_and_bad_input(tmp_path):
    data = tmp_path / "seed2"
    subprocess.run([sys.executable, "-m", "measurekit", "synth", "--n", "800", "--seed", "2", "--out", str(data)], check=True)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "measurekit", "run", "--data", str(data), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Finished in" in r.stdout and "trial_report.html" in r.stdout
    before = sorted(p.name for p in out.iterdir())
    # corrupt the input: the run stops with a readable report and the earlier output stays complete
    ch = pd.read_csv(data / "children.csv", dtype=str, keep_default_na=False)
    ch.loc[0, "sex"] = "unknown"
    ch.to_csv(data / "children.csv", index=False)
    r = subprocess.run([sys.executable, "-m", "measurekit", "run", "--data", str(data), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "unknown_code" in r.stdout + r.stderr
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "trial_report.html").exists()
