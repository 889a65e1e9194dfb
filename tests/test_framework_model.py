"""Items and scales for a repeated-rating design (issue 26, stage 2): a 0-10 scale by its range and anchors, items
in several domains, two perspectives on the same item. The expected numbers are worked out by hand here."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from measurekit.design import check_framework, load_framework
from measurekit.design.models import Framework, Scale
from measurekit.design.saving import json_schemas, save_framework
from measurekit.stats.scoring import score

RATING = {"id": "rating", "title": "0 to 10", "range": [0, 10],
          "anchors": {0: {"en": "Really bad", "cy": "Gwael iawn"}, 10: {"en": "Really good", "cy": "Da iawn"}}}


def _framework(tmp_path, scales=None):
    folder = tmp_path / "fw"
    folder.mkdir()
    docs = {"framework.yaml": {"name": "two-views", "languages": ["en", "cy"]},
            "scales.yaml": {"scales": scales or [RATING]},
            "items.yaml": {"domains": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
                           "items": [{"id": "t1", "domains": ["a", "b"], "scale": "rating",
                                      "respondents": ["young_person", "adviser"],
                                      "stem": {"en": "Topic one", "cy": "Pwnc un"}},
                                     {"id": "t2", "domains": ["b", "c"], "scale": "rating",
                                      "respondents": ["young_person", "adviser"],
                                      "stem": {"en": "Topic two", "cy": "Pwnc dau"}},
                                     {"id": "t3", "domain": "c", "scale": "rating", "respondents": ["young_person"],
                                      "stem": {"en": "Topic three", "cy": "Pwnc tri"}}]}}
    for name, doc in docs.items():
        (folder / name).write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder


def test_a_zero_to_ten_scale_from_its_range_and_anchors(tmp_path):
    fw = load_framework(_framework(tmp_path))
    s = fw.scale("rating")
    assert s.codes == list(range(11)) and s.numeric and s.has_middle
    assert s.options[0].label == {"en": "Really bad", "cy": "Gwael iawn"}
    assert s.options[10].label == {"en": "Really good", "cy": "Da iawn"}
    assert [o.label for o in s.options[1:10]] == [{"cy": str(k), "en": str(k)} for k in range(1, 10)]
    assert not [p for p in check_framework(tmp_path / "fw").problems if p.severity == "error"]


def test_saved_and_loaded_again_it_is_the_same_framework(tmp_path):
    fw = load_framework(_framework(tmp_path))
    out = save_framework(fw, tmp_path / "saved")
    again = load_framework(out)
    assert again.scale("rating") == fw.scale("rating")
    assert again.item("t1").all_domains == ["a", "b"]


@pytest.mark.parametrize("bad", [{"range": [10, 0]}, {"range": [0, 10], "anchors": {11: {"en": "x"}}},
                                 {"range": [0, 2], "options": [{"code": 1, "label": {"en": "one"}}]}])
def test_a_range_declared_wrong_is_named(tmp_path, bad):
    report = check_framework(_framework(tmp_path, [{**RATING, **bad}]))
    codes = [(p.code, p.file) for p in report.errors]
    assert ("bad_scale_range", "scales.yaml") in codes, report.to_frame()


def test_two_perspectives_and_items_in_several_domains(tmp_path):
    fw = load_framework(_framework(tmp_path))
    assert fw.respondents() == ["young_person", "adviser"]
    assert fw.domain_items("young_person") == {"a": ["t1"], "b": ["t1", "t2"], "c": ["t2", "t3"]}
    assert fw.domain_items("adviser") == {"a": ["t1"], "b": ["t1", "t2"], "c": ["t2"]}


def test_scores_count_a_shared_item_in_each_of_its_domains(tmp_path):
    fw = load_framework(_framework(tmp_path))
    df = pd.DataFrame({"t1": [8, 2, np.nan], "t2": [4, np.nan, 6], "t3": [0, 10, np.nan]})
    got = score(df, framework=fw, respondent="young_person")
    # by hand: a = t1; b = mean(t1, t2); c = mean(t2, t3), answered items only
    assert got["voice_a"].tolist()[:2] == [8.0, 2.0] and np.isnan(got["voice_a"].iloc[2])
    assert got["voice_b"].tolist() == [6.0, 2.0, 6.0]
    assert got["voice_c"].tolist()[:2] == [2.0, 10.0] and got["voice_c"].iloc[2] == 6.0
    assert got["n_answered_b"].tolist() == [2, 1, 1]


def test_schemas_of_the_specification_are_current(root):
    for name, schema in json_schemas().items():
        stored = json.loads((root / "indicators" / "schema" / f"{name}.schema.json").read_text())
        assert stored == schema, name
    assert "range" in Scale.model_json_schema()["properties"]
    assert "tables" in Framework.model_json_schema()["properties"]
