"""Framework review widget: score each Practice's and Enabler's questions 0-3, save to YAML, chart.

    from measurekit.design.widgets.review import FrameworkReview
    FrameworkReview("review.yaml", framework="indicators/<your-framework>")

All the work is done by ``measurekit.design.review`` (questions, checking, saving, summary, chart); this
module only lays out the widgets. Attributes for scripted use and tests: ``project``, ``assessor``,
``controls`` (question id -> dict of ``score``/``notes``/``evidence`` widgets), ``path``,
``save_button``, ``load_button``, ``replace`` (a checkbox), ``status``, ``chart`` (an Output).

The analyst's work is never lost to a re-run: when the file already exists the widget opens with the
saved review loaded (a re-run of the notebook shows the scores saved last time). Save writes over the
file only when it is the version this widget loaded or saved last; a file that is there but was not
loaded (it changed on disk, or could not be read) is replaced only after "Replace the saved file" is
ticked, and the status line says so.
"""
from __future__ import annotations

import hashlib
import html
from pathlib import Path

from measurekit.design import review as rv

UNSCORED = "-"


class FrameworkReview:
    def __init__(self, path="framework_review.yaml", framework=None, questions=None, project: str = ""):
        import ipywidgets as w

        self.questions = questions or rv.load_questions()
        self.framework = framework
        self.table = rv.questions_table(self.questions)
        _, claimed = rv.framework_claims(framework)
        levels = self.questions["levels"]
        options = [(UNSCORED, None)] + [(f"{k} {levels[k]['label']}", k) for k in rv.LEVELS]
        self.project = w.Text(value=project, description="Project")
        self.assessor = w.Text(description="Assessed by")
        self.path = w.Text(value=str(path), description="File", layout=w.Layout(width="60%"))
        self.save_button = w.Button(description="Save", button_style="primary", icon="save")
        self.load_button = w.Button(description="Load", icon="folder-open")
        self.replace = w.Checkbox(value=False, description="Replace the saved file", indent=False)
        self._known: tuple[str, str | None] | None = None   # (path, fingerprint) of the file as loaded or saved
        self.status = w.HTML()
        self.chart = w.Output()
        self.controls: dict[str, dict] = {}
        sections = []
        titles = []
        for (_kind, area), group in self.table.groupby(["kind", "area"], sort=False):
            rows = []
            for q in group.to_dict("records"):
                score = w.Dropdown(options=options, value=None, description="Score")
                notes = w.Textarea(placeholder="Notes", layout=w.Layout(width="95%", height="50px"))
                evidence = w.Text(placeholder="Evidence links or file names, separated by ;",
                                  layout=w.Layout(width="95%"))
                self.controls[q["id"]] = {"score": score, "notes": notes, "evidence": evidence}
                rows.append(w.VBox([w.HTML(f"<b>{q['text']}</b><br><small>Criteria: {q['criteria']}</small>"),
                                    score, notes, evidence]))
            sections.append(w.VBox(rows))
            mark = " *" if area in claimed else ""
            titles.append(f"{group['area_title'].iloc[0]}{mark}")
        self.accordion = w.Accordion(children=sections)
        for i, t in enumerate(titles):
            self.accordion.set_title(i, t)
        legend = "; ".join(f"{k} = {v['label']}: {v['descriptor']}" for k, v in levels.items())
        self.save_button.on_click(lambda _b: self.save())
        self.load_button.on_click(lambda _b: self.load())
        self.widget = w.VBox([w.HTML("<b>Framework self-assessment</b> (* = a Practice the framework says it "
                                     f"serves)<br><small>{legend}</small>"),
                              w.HBox([self.project, self.assessor]), self.accordion,
                              w.HBox([self.path, self.save_button, self.load_button, self.replace]), self.status,
                              self.chart])
        if Path(str(self.path.value)).is_file():     # a re-run shows what was saved, not a blank form
            self.load()

    # --- data in and out -------------------------------------------------------------------------
    def to_review(self) -> dict:
        """The review as ``measurekit.design.review`` dicts, from the current widget values."""
        r = rv.new_review(self.project.value, self.assessor.value, self.questions)
        for qid, c in self.controls.items():
            r["answers"][qid] = {"score": c["score"].value, "notes": c["notes"].value,
                                 "evidence": [e.strip() for e in c["evidence"].value.split(";") if e.strip()]}
        return r

    def set_review(self, review: dict) -> None:
        self.project.value = review.get("project") or ""
        self.assessor.value = review.get("assessor") or ""
        for qid, c in self.controls.items():
            a = review["answers"].get(qid) or {}
            c["score"].value = a.get("score")
            c["notes"].value = a.get("notes") or ""
            c["evidence"].value = "; ".join(a.get("evidence") or [])

    def summary(self):
        return rv.summarise(self.to_review(), self.questions, self.framework)

    def _fingerprint(self) -> str | None:
        """A hash of the file's bytes now (None: no file)."""
        try:
            return hashlib.sha256(Path(str(self.path.value)).read_bytes()).hexdigest()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def save(self):
        """Write the review; a file this widget did not load or save is only replaced when ``replace`` is ticked."""
        now = self._fingerprint()
        if now is not None and self._known != (str(self.path.value), now) and not self.replace.value:
            self.status.value = (
                "<span style='color:#c0392b'>Not saved. "
                + html.escape(f"{self.path.value} already holds a review that this form did not load (it was saved "
                              "elsewhere or changed since). Press Load to see it, or tick \"Replace the saved file\" "
                              "and Save again to write over it.") + "</span>")
            return None
        try:
            p = rv.save_review(self.to_review(), self.path.value, self.questions)
        except Exception as e:  # shown in the widget as a sentence, not lost in the log
            why = html.escape(rv.file_problem(e, self.path.value, 'save'))
            self.status.value = f"<span style='color:#c0392b'>Not saved. {why}</span>"
            return None
        self._known = (str(self.path.value), self._fingerprint())
        self.replace.value = False
        self.status.value = f"Saved to {html.escape(str(p))}"
        self.draw()
        return p

    def load(self):
        try:
            before = self._fingerprint()
            self.set_review(rv.load_review(self.path.value, self.questions))
        except Exception as e:
            why = html.escape(rv.file_problem(e, self.path.value, 'load'))
            self.status.value = f"<span style='color:#c0392b'>Not loaded. {why}</span>"
            return
        self._known = (str(self.path.value), before)
        self.status.value = f"Loaded {html.escape(str(self.path.value))}"
        self.draw()

    def draw(self):
        import matplotlib.pyplot as plt

        s = self.summary()
        self.chart.clear_output()
        with self.chart:
            rv.plot_review(s, questions=self.questions)
            low, unscored = s[s["low"]], s[s["unscored"]]
            if len(low):
                print("Practices the framework claims to serve that score low: " + ", ".join(low["title"]))
            if len(unscored):
                print("Practices the framework claims to serve that are not scored yet: "
                      + ", ".join(unscored["title"]))
            plt.show()
        return s

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
