"""Framework review widget: score each Practice's and Enabler's questions 0-3, save to YAML, chart.

    from measurekit.design.widgets.review import FrameworkReview
    FrameworkReview("review.yaml", framework="indicators/rochdale-school-readiness")

All the work is done by ``measurekit.design.review`` (questions, checking, saving, summary, chart); this
module only lays out the widgets. Attributes for scripted use and tests: ``project``, ``assessor``,
``controls`` (question id -> dict of ``score``/``notes``/``evidence`` widgets), ``path``,
``save_button``, ``load_button``, ``status``, ``chart`` (an Output).
"""
from __future__ import annotations

import html

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
        self.status = w.HTML()
        self.chart = w.Output()
        self.controls: dict[str, dict] = {}
        sections = []
        titles = []
        for (kind, area), group in self.table.groupby(["kind", "area"], sort=False):
            rows = []
            for q in group.itertuples():
                score = w.Dropdown(options=options, value=None, description="Score")
                notes = w.Textarea(placeholder="Notes", layout=w.Layout(width="95%", height="50px"))
                evidence = w.Text(placeholder="Evidence links or file names, separated by ;",
                                  layout=w.Layout(width="95%"))
                self.controls[q.id] = {"score": score, "notes": notes, "evidence": evidence}
                rows.append(w.VBox([w.HTML(f"<b>{q.text}</b><br><small>Criteria: {q.criteria}</small>"),
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
                              w.HBox([self.path, self.save_button, self.load_button]), self.status, self.chart])

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

    def save(self):
        try:
            p = rv.save_review(self.to_review(), self.path.value, self.questions)
        except Exception as e:  # shown in the widget as a sentence, not lost in the log
            self.status.value = f"<span style='color:#c0392b'>Not saved. {html.escape(rv.file_problem(e, self.path.value, 'save'))}</span>"
            return None
        self.status.value = f"Saved to {p}"
        self.draw()
        return p

    def load(self):
        try:
            self.set_review(rv.load_review(self.path.value, self.questions))
        except Exception as e:
            self.status.value = f"<span style='color:#c0392b'>Not loaded. {html.escape(rv.file_problem(e, self.path.value, 'load'))}</span>"
            return
        self.status.value = f"Loaded {self.path.value}"
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
                print("Practices the framework claims to serve that are not scored yet: " + ", ".join(unscored["title"]))
            plt.show()
        return s

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
