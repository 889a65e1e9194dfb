"""The typed state of one run of the main job, handed from step to step.

Each step reads what earlier steps produced and fills in its own part; nothing is looked up
by string key. A part is ``None`` until its step has run (or when the step was skipped: the
reason is then in ``skipped``).

Output folders: ``shareable`` holds what may leave the building (the board pack: every number
in it has passed disclosure control); ``internal`` holds analyst material with unsuppressed
counts (validation, linkage, scores, measurement tables, the trial report) and a README that
says it must not be shared.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

from measurekit.problems import CANNOT_SUPPORT, InputError

AUTO_TRIAL_SAMPLE = 20_000   # respondents: above this the trial analyses use a random sample unless told otherwise

if TYPE_CHECKING:  # pragma: no cover - for readers and type checkers only
    import pandas as pd

    from measurekit.data.cohort import Cohort
    from measurekit.data.linkage import LinkageResult
    from measurekit.data.periods import Periods
    from measurekit.design.evidence import FrameworkEvidence
    from measurekit.design.models import Framework, Outcome
    from measurekit.problems import ProblemReport
    from measurekit.publish.board_pack import PackDraft
    from measurekit.publish.board_table import BoardTable
    from measurekit.stats.added_value import AddedValueResult
    from measurekit.stats.cosmin import CosminResult
    from measurekit.stats.coverage import CoverageResult, WeightsResult
    from measurekit.stats.dif import DIFResult
    from measurekit.stats.factor import EFAResult, OmegaResult, ParallelResult
    from measurekit.stats.invariance import InvarianceResult
    from measurekit.stats.items import ItemAnalysis
    from measurekit.stats.perspectives import (
        ChangeResult,
        DivergenceResult,
        MissingnessResult,
        PerspectiveAgreementResult,
    )


T = TypeVar("T")


def ready(part: T | None, name: str) -> T:
    """``part`` of the run state, which the step reading it can count on: an earlier step always fills it in, or
    the step names it in its ``needs`` (the runner skips a step whose needs are None). None here is a fault in
    the order of the steps or in their ``needs``, not a problem of the data."""
    if part is None:
        raise RuntimeError(f"the run state has no {name} yet: a step read it before the step that makes it ran")
    return part


@dataclass
class Inputs:
    """Where the run reads from and writes to."""

    data_dir: Path
    framework_dir: Path
    out: Path
    config: Path | None = None
    # the respondents the trial analyses use: "auto" (every one up to AUTO_TRIAL_SAMPLE, else a random
    # sample of that many), "all" (every one) or a number (a random sample of that many)
    trial_sample: int | str = "auto"
    # the release ledger (publish/ledger.py): the pack is audited with the earlier releases there and recorded
    # in it after the run; None: no ledger (the shareable README then says no earlier release was checked)
    ledger: Path | None = None
    # a data folder of several academic years (data/periods.py): the period the one-year analyses use (``2024/25``);
    # None: the latest
    period: str | None = None


@dataclass
class Measurement:
    """Reliability and structure of the voice domains (respondents only)."""

    reliability: "pd.DataFrame"              # one row per domain: see stats.reliability.reliability_by_domain
    parallel: "ParallelResult | None" = None
    efa: "EFAResult | None" = None
    omega: "OmegaResult | None" = None
    item_analysis: "ItemAnalysis | None" = None


@dataclass
class Fairness:
    """Does the instrument work the same across groups? Invariance by each group the framework declares, DIF by
    the one it marks ``dif: true``."""

    # the groups compared (the framework's ``analysis.fairness_groups``): group name -> the words the report uses
    groups: dict[str, str] = field(default_factory=dict)
    invariance: dict[str, "InvarianceResult"] = field(default_factory=dict)   # group column -> result
    dif: "DIFResult | None" = None
    dif_group: str = ""                        # the group name DIF was tested by (a key of ``groups``)
    route: str = "continuous"                 # which CFA estimator the invariance used
    routes: dict[str, str] = field(default_factory=dict)   # group column -> route, where it differs (fallback)


@dataclass
class Value:
    """Whose voices were heard, and what the voice domains add to routine data."""

    coverage: "CoverageResult | None" = None
    weights: "WeightsResult | None" = None
    added_value: dict[str, "AddedValueResult"] = field(default_factory=dict)   # outcome column -> result
    # outcome column -> the framework's declaration of it (``analysis.outcomes``: covariates, words)
    outcomes: dict[str, "Outcome"] = field(default_factory=dict)


@dataclass
class Board:
    """The board pack written to the shareable folder: the board table object it was rendered from (built
    once, kept in memory: never read back from the files) and the files."""

    board_table: "BoardTable"
    files: dict[str, Path]

    @property
    def table(self) -> "pd.DataFrame":
        """The published rows of the board table (what board_table.csv holds)."""
        return self.board_table.rows


@dataclass
class Perspectives:
    """What the perspectives step (``pipeline/perspectives_step.py``) found: the two perspectives (``first`` minus
    ``second`` for differences), the area column, the group columns, and each result of
    ``measurekit.stats.perspectives`` (None when skipped)."""

    first: str
    second: str
    area: str
    by: list[str]
    agreement: "PerspectiveAgreementResult | None" = None
    divergence: "DivergenceResult | None" = None
    missingness: "MissingnessResult | None" = None
    change: "ChangeResult | None" = None
    discordance: "pd.DataFrame | None" = None       # every declared routine check, one table
    known_groups: "pd.DataFrame | None" = None      # each check against everyone else (COSMIN construct validity)
    checks: list = field(default_factory=list)      # the RoutineCheck declarations that ran
    warnings: list[str] = field(default_factory=list)


@dataclass
class StepLog:
    name: str
    seconds: float              # wall time
    note: str = ""
    cpu: float | None = None    # CPU time of this process (all threads) during the step; None when not measured
    # "" (the main process, alone), "in a worker process" or "beside N worker processes" (pipeline/workers.py)
    where: str = ""

    def done_line(self) -> str:
        """The console line that closes the step: wall time, CPU time (on a busy machine the wall time includes
        waiting for a core; the CPU time does not), where it ran when not in the main process alone, and the note."""
        inside = ", ".join(([f"CPU {self.cpu:.1f} s"] if self.cpu is not None else [])
                           + ([self.where] if self.where else []))
        return (f"   done in {self.seconds:.1f} s" + (f" ({inside})" if inside else "")
                + (f"  ({self.note})" if self.note else ""))


@dataclass
class Skipped:
    """A step (or part of one) that could not run on these data, and why, in plain English."""

    step: str
    reason: str


@dataclass
class RunState:
    """Everything one run knows, filled in step by step."""

    inputs: Inputs
    work: Path                                 # the folder being built (moved to inputs.out when complete)
    framework: "Framework | None" = None
    evidence: "FrameworkEvidence | None" = None   # the framework's evidence/ folder, read once with the inputs
    validation: "ProblemReport | None" = None
    cohort: "Cohort | None" = None
    linkage: "LinkageResult | None" = None
    scored: "pd.DataFrame | None" = None       # one row per child: linked routine data + voice domain scores
    score_summary: "pd.DataFrame | None" = None
    measurement: Measurement | None = None
    fairness: Fairness | None = None
    value: Value | None = None
    cosmin: "CosminResult | None" = None       # measurement properties rated + / - / ? per indicator
    # what the evidence step rates besides this run's analyses: "content_validity" and "retest" (each a result or
    # None), made in its early part while the analysis steps run
    evidence_parts: dict | None = None
    perspectives: "Perspectives | None" = None   # two perspectives of the same topics (pipeline/perspectives_step.py)
    board_table: "BoardTable | None" = None    # built once (the Board table step), rendered by the Board pack step
    board: Board | None = None
    # the board pack's files that need no analysis result, written while the analysis steps run (the Board pack
    # step's early part: ``publish.board_pack.PackDraft``); the Board pack step finishes it
    pack_draft: "PackDraft | None" = None
    # ``pipeline.workers.cpu_sample()`` when the run started, and whether a core was idle for worker processes when
    # the analysis steps began (``workers.idle_core``: measured over the run so far; None: not decided yet)
    cpu_at_start: tuple | None = None
    core_idle: bool | None = None
    # a data folder of several academic years: every period read and validated (``data.periods.Periods``); the
    # one-year parts above (``cohort`` ...) are the period ``inputs.period`` names, or the latest. None: one year
    periods: "Periods | None" = None
    steps: list[StepLog] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)   # label -> path relative to the output folder
    # (scored, respondents, samples by size): see ``respondents``
    _respondents: tuple[pd.DataFrame, pd.DataFrame, dict[int, pd.DataFrame]] | None = field(
        default=None, repr=False, compare=False)

    @property
    def shareable(self) -> Path:
        return self.work / "shareable"

    @property
    def internal(self) -> Path:
        return self.work / "internal"

    @property
    def respondents(self) -> "pd.DataFrame":
        """Children with a linked parent response (rows of ``scored``). Kept while ``scored`` is the same
        frame: at national scale each selection copies a few hundred MB."""
        scored = ready(self.scored, "scores")
        if self._respondents is None or self._respondents[0] is not scored:
            self._respondents = (scored, scored[scored["responded"] == 1], {})
        return self._respondents[1]

    @property
    def trial_size(self) -> int | None:
        """How many respondents the trial analyses use (None: every one); see ``Inputs.trial_sample``."""
        n = self.inputs.trial_sample
        if n in (None, "all"):
            return None
        size = AUTO_TRIAL_SAMPLE if n == "auto" else int(n)
        return size if len(self.respondents) > size else None

    @property
    def trial_respondents(self) -> "pd.DataFrame":
        """The respondents the trial analyses (reliability, fairness, added value, evidence) use: all of
        them, or a simple random sample of ``trial_size`` (seed 1) at national scale (see ``Inputs.trial_sample``).
        Linkage, coverage and the board pack always use every child."""
        n = self.trial_size
        if n is None:
            return self.respondents
        samples = ready(self._respondents, "respondents")[2]     # by size, for the same scored frame
        if n not in samples:
            samples[n] = self.respondents.sample(n=n, random_state=1).sort_index()
        return samples[n]

    @property
    def sample_note(self) -> str:
        n, total = self.trial_size, len(self.respondents)
        if n is None:
            return ""
        why = (f" because there are more than {AUTO_TRIAL_SAMPLE:,} (a sample this size estimates these statistics "
               "precisely; run with --trial-sample all to use every respondent)"
               if self.inputs.trial_sample == "auto" else "")
        return (f"Reliability, fairness, added value and the measurement evidence used a random sample of {n:,} of "
                f"{total:,} respondents (simple random sample, seed 1){why}; linkage, coverage and the board pack "
                "used every child.")

    def skip(self, step: str, reason: str) -> None:
        self.skipped.append(Skipped(step, reason))


def attempt(state: RunState, step: str, what: str, func: Callable, *args, **kwargs):
    """Run one part of an analysis step; when the data cannot support it (an ``InputError`` whose every problem has
    a code in ``problems.CANNOT_SUPPORT``), record why and return None. Anything else propagates: a wrong call or a
    bug stops the run loudly instead of showing as "skipped"."""
    try:
        return func(*args, **kwargs)
    except InputError as exc:
        errors = exc.report.errors
        if not errors or any(p.code not in CANNOT_SUPPORT for p in errors):
            raise
        state.skip(step, f"{what}: {errors[0].message}")
        return None
