"""Probabilistic linkage of survey responses to children's records (Fellegi-Sunter, with splink on DuckDB).

``fit_model(responses, records)`` prepares both sides (``measurekit.data.linkage_names``), builds the model and
estimates its parameters from the data alone, without any labelled pairs:

* the chance that two random records match, from pairs that agree exactly on first name, family name and date
  of birth (assumed to find 70% of the true matches);
* u probabilities (how often non-matching pairs agree at each level) from random pairs;
* m probabilities (how often matching pairs agree at each level) by expectation-maximisation, twice: once on pairs
  that share a date of birth (which trains names, postcode and setting) and once on pairs whose first and family
  names sound alike (which trains date of birth).

Comparisons (each level a row of ``LinkageModel.parameters``):

* first name and family name: exact (with a term-frequency adjustment for the family name, so "Khan" counts for
  less than a rare name), a known variant (the package table of transliterations and nicknames), Jaro-Winkler
  of 0.9 or more, the same sound key, Damerau-Levenshtein of 2 or less (first name), the name given in the other
  field (first and family names swapped), anything else;
* date of birth: exact, day and month swapped, one keystroke apart, same day and month in another year, same year
  and month, anything else;
* postcode: the whole postcode, the same sector (``AB12 3``), the same district (``AB12``), anything else;
* setting (nursery, school): the same, different.

A missing value on either side is a null level: it neither adds nor takes away evidence.

Blocking (which pairs are scored at all; a pair is scored if any rule admits it): same date of birth and family
name sound; same date of birth and first name sound; date of birth swapped on one side with the same family or
first name sound; same date of birth and
postcode sector; same postcode and first name sound; same district and both name sounds; same year-month of
birth and both name sounds; same setting and both name sounds; first and family names swapped with the same date
of birth.

``LinkageModel.predict`` scores the blocked pairs; ``LinkageModel.waterfall`` explains one pair's match weight
term by term. splink and DuckDB are imported inside the functions that use them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from measurekit.data.linkage_names import dob_parts, name_columns, postcode_parts

if TYPE_CHECKING:
    from splink import Linker

IDENTIFIERS = ("first_name", "last_name", "date_of_birth", "postcode", "setting")
COMPARED = ("first_name", "last_name", "dob", "postcode", "setting")
BLOCKING_RULES = [
    "l.dob = r.dob AND l.last_name_phon = r.last_name_phon",
    "l.dob = r.dob AND l.first_name_phon = r.first_name_phon",
    "l.dob_swapped = r.dob AND l.last_name_phon = r.last_name_phon",
    "l.dob_swapped = r.dob AND l.first_name_phon = r.first_name_phon",
    "l.dob = r.dob AND l.pc_sector = r.pc_sector",
    "l.postcode = r.postcode AND l.first_name_phon = r.first_name_phon",
    "l.pc_district = r.pc_district AND l.first_name_phon = r.first_name_phon AND l.last_name_phon = r.last_name_phon",
    "l.dob_ym = r.dob_ym AND l.first_name_phon = r.first_name_phon AND l.last_name_phon = r.last_name_phon",
    "l.setting = r.setting AND l.first_name_phon = r.first_name_phon AND l.last_name_phon = r.last_name_phon",
    "l.dob = r.dob AND l.first_name_phon = r.last_name_phon AND l.last_name_phon = r.first_name_phon",
]


def prepare(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """The comparison columns of one side: ``unique_id`` (the ``key`` column as text) and the normalised names
    with their sound keys and variant groups, ``dob``, ``dob_swapped``, ``dob_ym``, ``postcode``, ``pc_sector``,
    ``pc_district`` and ``setting``. Missing identifier columns become empty (null) columns."""
    n = len(frame)
    blank = pd.Series([None] * n, index=frame.index, dtype=object)

    def col(c: str) -> pd.Series:
        return frame[c] if c in frame else blank

    out = {"unique_id": frame[key].astype(str)}
    out.update(name_columns(col("first_name"), "first_name"))
    out.update(name_columns(col("last_name"), "last_name"))
    out.update(dob_parts(col("date_of_birth")))
    out["dob_ym"] = out["dob"].str[:7]
    out.update(postcode_parts(col("postcode")))
    setting = col("setting").astype(object)
    out["setting"] = setting.where(setting.notna() & (setting.astype(str).str.strip() != ""), None).map(
        lambda s: None if s is None else str(s).strip().upper())
    prepared = pd.DataFrame(out).reset_index(drop=True)
    for c in ("first_name_groups", "last_name_groups"):
        prepared[c] = prepared[c].map(lambda g: [int(x) for x in g] if isinstance(g, (list, tuple)) else [])
    return prepared


def _levels(col: str, other: str | None, fuzzy_dl: bool, tf: bool) -> list[dict]:
    lv = [{"sql_condition": f"{col}_l IS NULL OR {col}_r IS NULL", "label_for_charts": "missing",
           "is_null_level": True},
          {"sql_condition": f"{col}_l = {col}_r", "label_for_charts": "exact", "m_probability": 0.85,
           **({"tf_adjustment_column": col, "tf_adjustment_weight": 1.0} if tf else {})},
          {"sql_condition": f"list_has_any({col}_groups_l, {col}_groups_r)", "label_for_charts": "known variant",
           "m_probability": 0.05},
          {"sql_condition": f"jaro_winkler_similarity({col}_l, {col}_r) >= 0.9",
           "label_for_charts": "Jaro-Winkler >= 0.9", "m_probability": 0.04},
          {"sql_condition": f"{col}_phon_l = {col}_phon_r", "label_for_charts": "same sound", "m_probability": 0.02}]
    if fuzzy_dl:
        lv.append({"sql_condition": f"damerau_levenshtein({col}_l, {col}_r) <= 2",
                   "label_for_charts": "2 edits or fewer", "m_probability": 0.01})
    if other:
        lv.append({"sql_condition": f"{col}_l = {other}_r OR {other}_l = {col}_r",
                   "label_for_charts": "in the other name field", "m_probability": 0.01})
    lv.append({"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.02})
    return lv


def settings_dict() -> dict:
    """The splink settings: link only (responses to records), the comparisons and blocking rules above."""
    comparisons = [
        {"output_column_name": "first_name", "comparison_description": "first name",
         "comparison_levels": _levels("first_name", "last_name", True, False)},
        {"output_column_name": "last_name", "comparison_description": "family name",
         "comparison_levels": _levels("last_name", "first_name", False, True)},
        {"output_column_name": "dob", "comparison_description": "date of birth", "comparison_levels": [
            {"sql_condition": "dob_l IS NULL OR dob_r IS NULL", "label_for_charts": "missing",
             "is_null_level": True},
            {"sql_condition": "dob_l = dob_r", "label_for_charts": "exact", "m_probability": 0.9},
            {"sql_condition": "dob_swapped_l = dob_r", "label_for_charts": "day and month swapped",
             "m_probability": 0.03},
            {"sql_condition": "damerau_levenshtein(dob_l, dob_r) <= 1", "label_for_charts": "one keystroke apart",
             "m_probability": 0.02},
            {"sql_condition": "substr(dob_l, 6, 5) = substr(dob_r, 6, 5)",
             "label_for_charts": "same day and month, other year", "m_probability": 0.01},
            {"sql_condition": "dob_ym_l = dob_ym_r", "label_for_charts": "same year and month", "m_probability": 0.01},
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.03}]},
        {"output_column_name": "postcode", "comparison_description": "postcode", "comparison_levels": [
            {"sql_condition": "postcode_l IS NULL OR postcode_r IS NULL", "label_for_charts": "missing",
             "is_null_level": True},
            {"sql_condition": "postcode_l = postcode_r", "label_for_charts": "exact", "m_probability": 0.8},
            {"sql_condition": "pc_sector_l = pc_sector_r", "label_for_charts": "same sector", "m_probability": 0.05},
            {"sql_condition": "pc_district_l = pc_district_r", "label_for_charts": "same district",
             "m_probability": 0.05},
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.1}]},
        {"output_column_name": "setting", "comparison_description": "setting", "comparison_levels": [
            {"sql_condition": "setting_l IS NULL OR setting_r IS NULL", "label_for_charts": "missing",
             "is_null_level": True},
            {"sql_condition": "setting_l = setting_r", "label_for_charts": "exact", "m_probability": 0.9},
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.1}]},
    ]
    return {"link_type": "link_only", "comparisons": comparisons,
            "blocking_rules_to_generate_predictions": list(BLOCKING_RULES),
            "retain_matching_columns": True, "retain_intermediate_calculation_columns": True,
            "additional_columns_to_retain": ["dob_swapped", "dob_ym", "pc_sector", "pc_district", "first_name_phon",
                                             "last_name_phon", "first_name_groups", "last_name_groups"],
            "max_iterations": 25, "em_convergence": 0.001}


@dataclass
class LinkageModel:
    """A trained model: ``parameters`` (one row per comparison level: ``comparison``, ``level``, ``gamma`` (the
    level's number, -1 for missing), ``m``, ``u`` and ``match_weight`` = log2(m/u)), ``prior_weight`` (log2 of
    the prior odds that a scored pair matches) and the DuckDB-backed splink linker (``linker``)."""

    linker: Linker = field(repr=False)
    parameters: pd.DataFrame
    prior_weight: float
    n_responses: int
    n_records: int
    notes: list = field(default_factory=list)

    def predict(self, min_probability: float = 0.01, chunks: int = 1) -> pd.DataFrame:
        """Scored pairs with probability of at least ``min_probability``: ``response_key``, ``record_key``,
        ``match_weight``, ``match_probability`` and each comparison's level (``gamma_<comparison>``). ``chunks``
        splits the records side into parts (less memory for a national file)."""
        chunked = chunks > 1                 # None: splink's default, no chunks
        df = self.linker.inference.predict(threshold_match_probability=min_probability,
                                           num_chunks_left=1 if chunked else None,
                                           num_chunks_right=chunks if chunked else None).as_pandas_dataframe()
        return _oriented(df)

    def waterfall(self, pairs: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
        """How each pair's match weight adds up, for an analyst: one row per pair and term. ``pair`` (the row of
        ``pairs``), ``response_key``, ``record_key``, ``term`` (``prior`` then each comparison, then ``total``),
        ``level`` (the comparison level that applied), ``response_value``, ``record_value``, ``weight`` (log2
        Bayes factor: what this term adds to the match weight; a term-frequency adjustment is included in its
        comparison) and ``cumulative`` (the running match weight; ``total`` holds the final weight and its
        probability is ``2^w / (1 + 2^w)``). This is splink's waterfall chart as a table."""
        rows = []
        labels = {(r.comparison, r.gamma): r.level for r in self.parameters.itertuples()}
        for k, p in enumerate(pairs.head(limit).to_dict("records")):
            total = self.prior_weight
            rows.append({"pair": k, "response_key": p["response_key"], "record_key": p["record_key"], "term": "prior",
                         "level": "chance two records match", "response_value": None, "record_value": None,
                         "weight": self.prior_weight, "cumulative": total})
            for c in COMPARED:
                gamma = int(p[f"gamma_{c}"])
                tf = p.get(f"mw_tf_adj_{c}", 0.0)
                w = 0.0 if gamma == -1 else float(p[f"mw_{c}"]) + (float(tf) if pd.notna(tf) else 0.0)
                total += w
                rows.append({"pair": k, "response_key": p["response_key"], "record_key": p["record_key"], "term": c,
                             "level": labels.get((c, gamma), str(gamma)), "response_value": p.get(f"{c}_resp"),
                             "record_value": p.get(f"{c}_rec"), "weight": w, "cumulative": total})
            rows.append({"pair": k, "response_key": p["response_key"], "record_key": p["record_key"], "term": "total",
                         "level": f"probability {p['match_probability']:.3f}", "response_value": None,
                         "record_value": None, "weight": float(p["match_weight"]),
                         "cumulative": float(p["match_weight"])})
        return pd.DataFrame(rows)


def _oriented(df: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the response always first: ``response_key``, ``record_key`` and ``<column>_resp``/``_rec``."""
    resp_left = df["source_dataset_l"].astype(str) == "responses"
    out = pd.DataFrame({"response_key": np.where(resp_left, df["unique_id_l"], df["unique_id_r"]),
                        "record_key": np.where(resp_left, df["unique_id_r"], df["unique_id_l"]),
                        "match_weight": df["match_weight"].astype(float),
                        "match_probability": df["match_probability"].astype(float)})
    for c in COMPARED:
        out[f"gamma_{c}"] = df[f"gamma_{c}"].astype(int)
        for part in (f"mw_{c}", f"mw_tf_adj_{c}"):
            if part in df:
                out[part] = df[part].astype(float)
        if f"{c}_l" in df:
            out[f"{c}_resp"] = np.where(resp_left, df[f"{c}_l"], df[f"{c}_r"])
            out[f"{c}_rec"] = np.where(resp_left, df[f"{c}_r"], df[f"{c}_l"])
    return out


def _parameters(linker) -> tuple[pd.DataFrame, float]:
    s = linker._settings_obj
    rows = []
    for comp in s.comparisons:
        for lvl in comp.comparison_levels:
            null = lvl.is_null_level
            m, u = (None, None) if null else (lvl.m_probability, lvl.u_probability)
            rows.append({"comparison": comp.output_column_name, "level": lvl.label_for_charts,
                         "gamma": -1 if null else int(lvl.comparison_vector_value),
                         "m": None if null else m, "u": None if null else u,
                         "match_weight": 0.0 if null or not m or not u else float(np.log2(m / u))})
    lam = s.core_model_settings.probability_two_random_records_match
    return pd.DataFrame(rows), float(np.log2(lam / (1 - lam)))


MIN_EM_PAIRS = 500


def _blocked_pairs(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> int:
    """How many pairs agree on all of ``keys`` (none missing): the size of an EM training set."""
    a = left[keys].dropna().value_counts()
    b = right[keys].dropna().value_counts()
    both = a.to_frame("a").join(b.to_frame("b"), how="inner")
    return int((both["a"] * both["b"]).sum())


def fit_model(responses: pd.DataFrame, records: pd.DataFrame, *, response_key: str = "response_id",
              record_key: str = "child_id", random_state: int | None = 1, u_pairs: float = 5e5,
              em_max_pairs: float | None = 2e6, threads: int | None = None) -> LinkageModel:
    """Prepare both sides, build the splink model and estimate its parameters without labels (see the module
    docstring). ``u_pairs`` random pairs estimate the u probabilities; ``em_max_pairs`` caps the pairs of each EM
    session (sampled by splink when the blocked pairs are more)."""
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator

    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)
    left, right = prepare(responses, response_key), prepare(records, record_key)
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    db_api = DuckDBAPI(connection=con)
    tables = [db_api.register(left, dataset_display_name="responses"),
              db_api.register(right, dataset_display_name="records")]
    linker = Linker(tables, SettingsCreator.from_path_or_dict(settings_dict()), log_level=None)
    seed = None if random_state is None else int(random_state) % (2**31)
    linker.training.estimate_probability_two_random_records_match(
        ["l.first_name = r.first_name AND l.last_name = r.last_name AND l.dob = r.dob"], recall=0.7)
    core = linker._settings_obj.core_model_settings
    lam = core.probability_two_random_records_match
    if not (lam and 0 < lam < 1):
        # no pair agrees exactly on all three: assume most responses have their child among the records
        core.probability_two_random_records_match = 0.9 / max(len(right), 2)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    from splink.internals.exceptions import EMTrainingException

    max_pairs = em_max_pairs if em_max_pairs and len(left) * len(right) > 50_000_000 else None
    notes = []
    for keys, rule, what in ((["dob"], "l.dob = r.dob", "names, postcode and setting"),
                             (["first_name_phon", "last_name_phon"],
                              "l.first_name_phon = r.first_name_phon AND l.last_name_phon = r.last_name_phon",
                              "date of birth")):
        try:
            if _blocked_pairs(left, right, keys) < MIN_EM_PAIRS:
                raise EMTrainingException("too few pairs")
            linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=max_pairs)
        except (EMTrainingException, ValueError, ZeroDivisionError):
            notes.append(f"Too few pairs to estimate the m probabilities of {what} from the data; the starting "
                         "values were kept (see docs/linkage.md). Link more responses at once, or check the result "
                         "in clerical review.")
    params, prior = _parameters(linker)
    return LinkageModel(linker, params, prior, len(left), len(right), notes)


def decide(pairs: pd.DataFrame, lower: float, upper: float, margin: float = 3.0) -> pd.DataFrame:
    """One row per response that has a scored candidate: its best candidate and what to do with it.

    Columns: ``response_key``, ``record_key`` (the best candidate), ``match_weight``, ``match_probability``,
    ``second_record_key`` and ``second_weight`` (the next best candidate, if any above ``lower``), ``status``
    (``linked``: probability at least ``upper`` and no other candidate within ``margin`` match-weight points;
    ``review``: the best is between ``lower`` and ``upper``, or two candidates are close (twins); ``not linked``:
    below ``lower``) and ``reason``.
    """
    cols = ["response_key", "record_key", "match_weight", "match_probability", "second_record_key",
            "second_weight", "status", "reason"]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    p = pairs.sort_values(["response_key", "match_weight"], ascending=[True, False])
    best = p.drop_duplicates("response_key", keep="first").set_index("response_key")
    second = p[p.duplicated("response_key", keep="first")].drop_duplicates("response_key", keep="first")
    second = second[second["match_probability"] >= lower].set_index("response_key")
    out = best[["record_key", "match_weight", "match_probability"]].copy()
    out["second_record_key"] = second["record_key"].reindex(out.index)
    out["second_weight"] = second["match_weight"].reindex(out.index)
    close = out["second_weight"].notna() & (out["match_weight"] - out["second_weight"] < margin)
    prob = out["match_probability"]
    out["status"] = np.where(prob < lower, "not linked", np.where((prob >= upper) & ~close, "linked", "review"))
    out["reason"] = np.select(
        [prob < lower, close & (prob >= lower), prob < upper],
        ["best candidate below the lower threshold", "two candidates within "
         f"{margin:g} match-weight points (twins or siblings?)", "between the thresholds"], "above the upper threshold")
    return out.reset_index()[cols]
