"""What ``measurekit synth`` plants for one framework: its areas, how its voice domains behave, what goes wrong.

A framework may carry a ``synthetic.yaml`` beside its ``framework.yaml`` (the bundled ones do); everything in it is
optional, and anything left out gets a neutral default built from the framework itself, so any framework can be
synthesised. Nothing here names a framework: the words and numbers of a particular council live in its file.

Keys of ``synthetic.yaml`` (all optional):
- ``areas``: list of ``{name, code, small_area_prefix, share, deprivation, eal_logit, mobility_logit, small_areas,
  language_mix}``; default three areas "Area A/B/C" that differ in deprivation.
- ``language_mixes``: mix name -> shares of the home languages other than English (``LANGUAGES`` order).
- ``domains``: domain id -> ``{loadings (by item position, cycled), on_development, on_seldom_heard,
  later_outcome}``; default loadings 0.7, 0.3 on development, -0.2 on the seldom-heard trait, 0.25 on the outcome.
- ``domain_correlation``: correlation matrix of the domain latents' own parts (framework domain order); default
  0.35 between every pair.
- ``dif``: ``{item, group, reference, shift, description}``; default none planted.
- ``panel``: content-validity panel (``raters``, ``p_relevant``, ``p_clear``, planted ``relevance``/``clarity``
  counts by item, ``comments``, ``description``).
- ``interviews``: cognitive interviews (``per_item``, ``p_noise``, ``start``, ``planted`` by item, ``languages``
  form-language weights).
- ``readme``: the opening of the README written beside the data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# home languages other than English, in the order language mixes give their shares (the children table's codes)
LANGUAGES = ["Urdu", "Bengali", "Punjabi", "Polish", "Arabic", "Romanian", "Other"]
_EVEN_MIX = [0.25, 0.10, 0.10, 0.20, 0.10, 0.10, 0.15]


@dataclass(frozen=True)
class Area:
    name: str
    code: str
    small_area_prefix: str
    share: float
    deprivation: float
    eal_logit: float
    mobility_logit: float
    small_areas: int
    language_mix: str


@dataclass(frozen=True)
class DomainBehaviour:
    loadings: list[float]
    on_development: float
    on_seldom_heard: float
    later_outcome: float


@dataclass
class Profile:
    areas: list[Area]
    language_mixes: dict[str, list[float]]
    domains: dict[str, DomainBehaviour]
    domain_correlation: np.ndarray
    dif: dict[str, Any] | None
    panel: dict[str, Any]
    interviews: dict[str, Any]
    readme: str
    source: Path | None = field(default=None)

    def loading(self, domain: str, position: int) -> float:
        """The loading of the item at ``position`` within its domain (the domain's list, cycled)."""
        lams = self.domains[domain].loadings
        return lams[position % len(lams)]

    def panel_comment(self, item: str, aspect: str) -> str | None:
        for c in self.panel.get("comments", []):
            if c["item"] == item and c["aspect"] == aspect:
                return c["text"]
        return None


def _default_areas() -> list[dict]:
    return [{"name": f"Area {c}", "code": f"SYN-A0{k + 1}", "small_area_prefix": f"AR{c}", "share": share,
             "deprivation": dep, "eal_logit": eal, "mobility_logit": mob, "small_areas": 5, "language_mix": "even"}
            for k, (c, share, dep, eal, mob) in enumerate([("A", 0.4, 0.6, -0.6, -1.2), ("B", 0.35, 0.0, -1.6, -1.6),
                                                          ("C", 0.25, -0.7, -2.4, -2.0)])]


_DEFAULT_README = """# Synthetic cohort (not real people)

Made by `measurekit synth` (the same seed always gives the same bytes). Every person, identifier, small area and
answer here is invented. Codes of small areas start `SYN-` so they can never be mistaken for real geography.
`ground_truth.json` says exactly what was planted, so analyses can be checked.
"""


def load_profile(fw) -> Profile:
    """The synthesis profile of framework ``fw``: its ``synthetic.yaml`` where there is one, defaults elsewhere."""
    import yaml

    from measurekit.problems import InputError, Problem, ProblemReport

    path = Path(fw.path) / "synthetic.yaml" if getattr(fw, "path", None) else None
    raw: dict = {}
    if path is not None and path.is_file():
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise InputError(ProblemReport([Problem("bad_synthetic_profile", "synthetic.yaml must be a mapping of "
                                                    "keys such as areas, domains, dif.", file=str(path))]))
    domains = [d.id for d in fw.domains]
    given = raw.get("domains") or {}
    behaviour = {}
    for d in domains:
        b = given.get(d, {})
        behaviour[d] = DomainBehaviour(loadings=[float(x) for x in b.get("loadings", [0.7])],
                                       on_development=float(b.get("on_development", 0.3)),
                                       on_seldom_heard=float(b.get("on_seldom_heard", -0.2)),
                                       later_outcome=float(b.get("later_outcome", 0.25)))
    if "domain_correlation" in raw:
        corr = np.array(raw["domain_correlation"], dtype=float)
    else:
        corr = np.full((len(domains), len(domains)), 0.35)
        np.fill_diagonal(corr, 1.0)
    problems = []
    if corr.shape != (len(domains), len(domains)):
        problems.append(Problem("bad_synthetic_profile", f"domain_correlation is {corr.shape[0]} x {corr.shape[1]}; "
                                f"the framework has {len(domains)} domains.", file=str(path),
                                column="domain_correlation"))
    unknown = sorted(set(given) - set(domains))
    if unknown:
        problems.append(Problem("bad_synthetic_profile", f"domains names {', '.join(unknown)}, not domains of the "
                                "framework.", file=str(path), column="domains"))
    mixes = dict(raw.get("language_mixes") or {"even": _EVEN_MIX})
    areas = [Area(**a) for a in (raw.get("areas") or _default_areas())]
    for a in areas:
        if a.language_mix not in mixes:
            problems.append(Problem("bad_synthetic_profile", f"area {a.name!r} uses language mix {a.language_mix!r}, "
                                    "which language_mixes does not define.", file=str(path), column="areas"))
    dif = raw.get("dif")
    item_ids = {i.id for i in fw.items}
    if dif and dif.get("item") not in item_ids:
        problems.append(Problem("bad_synthetic_profile", f"dif names item {dif.get('item')!r}, not an item of the "
                                "framework.", file=str(path), column="dif.item"))
    if problems:
        raise InputError(ProblemReport(problems, title="Synthesis profile"))
    panel = {"raters": {"parent": 8, "practitioner": 6}, "p_relevant": 0.98, "p_clear": 0.98, "relevance": {},
             "clarity": {}, "comments": [], "description": "No item was planted as not relevant or unclear.",
             **(raw.get("panel") or {})}
    interviews = {"per_item": 6, "p_noise": 0.02, "start": "2025-02-03", "planted": {},
                  "languages": {lang: 1.0 / len(fw.languages) for lang in fw.languages},
                  **(raw.get("interviews") or {})}
    return Profile(areas=areas, language_mixes=mixes, domains=behaviour, domain_correlation=corr, dif=dif,
                   panel=panel, interviews=interviews, readme=raw.get("readme", _DEFAULT_README), source=path)
