"""An item drafter for JupyterLab: evidence and item side by side, live wording checks, save to YAML.

    from measurekit.design.widgets.drafter import ItemDrafter
    ItemDrafter("my-framework-folder")          # shows the drafter in a notebook

Saving writes the framework's YAML files (atomically) and adds a co-design history entry to
the item: what changed, when, by whom and why. The drafter acts on its checks: wording errors
and warnings block saving unless "Save anyway" is ticked with a reason, which goes into the
history entry. Changing the source-language wording marks the item's other languages as out of
date until each is saved again. Right-to-left languages are typed right to left. The drafter
calls the same functions as the rest of measurekit (``load_framework``, ``check_stem``,
``save_framework``).

Nothing saved is overwritten unasked: the drafter remembers the framework files as it loaded (or last
saved) them. If they changed on disk since (another drafter, a hand edit, another notebook), Save
stops and says so; ``reload()`` (the Reload button) reads them again, keeping nothing typed, and
"Replace the files on disk" saves over them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
from pathlib import Path

from measurekit.design import load_framework
from measurekit.design.consistency import check_consistency
from measurekit.design.evidence import load_evidence
from measurekit.design.forms import RTL
from measurekit.design.models import STATUSES, VOICE_GROUPS, HistoryEntry, Option, Scale
from measurekit.design.saving import save_framework
from measurekit.design.wording import (
    CheckConfig,
    Finding,
    check_stem,
    outdated_translation,
)

# Common response scales the drafter offers besides the framework's own; one that is picked is
# added to the framework (scales.yaml) when the item is saved.
STANDARD_SCALES = [
    Scale(id="agree4", title="Four-point agreement (no middle)", options=[
        Option(code=1, label={"en": "Strongly disagree"}), Option(code=2, label={"en": "Disagree"}),
        Option(code=3, label={"en": "Agree"}), Option(code=4, label={"en": "Strongly agree"})]),
    Scale(id="frequency5", title="Five-point frequency", options=[
        Option(code=1, label={"en": "Never"}), Option(code=2, label={"en": "Rarely"}),
        Option(code=3, label={"en": "Sometimes"}), Option(code=4, label={"en": "Often"}),
        Option(code=5, label={"en": "Always"})]),
    Scale(id="yes_sometimes_not_yet", title="Yes / sometimes / not yet (as ASQ-3)", options=[
        Option(code=0, label={"en": "Not yet"}), Option(code=1, label={"en": "Sometimes"}),
        Option(code=2, label={"en": "Yes"})]),
]
BLOCKING = ("error", "warning")
RTL_CSS = "<style>.mk-rtl textarea { direction: rtl; text-align: right; unicode-bidi: plaintext; }</style>"


class ItemDrafter:
    """Widgets: ``item`` (which item), ``language``, ``stem`` (wording), ``scale``, ``quotes`` (linked
    evidence), ``status``, ``who``, ``reason``, ``save_button``; ``checks`` and ``evidence`` panels."""

    def __init__(self, framework_dir, config: CheckConfig | None = None):
        import ipywidgets as w

        self.path = framework_dir
        self.fw = load_framework(framework_dir)
        self._known = self._fingerprint()
        self.evidence = load_evidence(self.fw)
        self.config = config or CheckConfig()
        quotes = self.evidence.quotes
        self.item = w.Dropdown(options=self._item_options(), description="Item")
        self.language = w.Dropdown(options=self.fw.languages, description="Language")
        self.stem = w.Textarea(description="Wording", layout=w.Layout(width="95%", height="70px"))
        self.scale = w.Dropdown(options=self._scale_options(), description="Scale", layout=w.Layout(width="95%"))
        self.quotes = w.SelectMultiple(options=[(f"{qid} [{group}] {text[:60]}", qid) for qid, group, text
                                                in zip(quotes["id"], quotes["voice_group"], quotes["text"])],
                                       description="Evidence", layout=w.Layout(width="95%", height="140px"))
        self.status = w.Dropdown(options=list(STATUSES), value="revised", description="Status")
        self.who = w.Text(description="Who", placeholder="e.g. parent panel, 3 March")
        self.reason = w.Text(description="Why", placeholder="what changed and why")
        self.save_button = w.Button(description="Save to YAML", button_style="success", icon="save")
        self.override = w.Checkbox(value=False, description="Save anyway, despite the open problems", indent=False)
        self.override_reason = w.Text(description="Because", placeholder="why the wording is kept as it is")
        self.replace = w.Checkbox(value=False, description="Replace the files on disk (they changed since loading)",
                                  indent=False)
        self.reload_button = w.Button(description="Reload from disk", icon="refresh")
        self.checks = w.HTML()
        self.evidence_panel = w.HTML()
        self.record_panel = w.HTML()      # cognitive interviews of the item (evidence/interviews.csv or .yaml)
        self.interviews = self._interview_log()
        self.message = w.HTML()
        self.item.observe(lambda _: self._load(), names="value")
        self.language.observe(lambda _: self._load(), names="value")
        self.stem.observe(lambda _: self._edited(), names="value")
        self.scale.observe(lambda _: self._edited(), names="value")
        self.quotes.observe(lambda _: self._update_evidence(), names="value")
        self.save_button.on_click(lambda _: self.save())
        self.reload_button.on_click(lambda _: self.reload())
        left = w.VBox([w.HTML(RTL_CSS), self.item, self.language, self.stem, self.scale, self.status, self.who,
                       self.reason, self.override, self.override_reason, w.HBox([self.save_button, self.reload_button]),
                       self.replace, self.message, self.checks],
                      layout=w.Layout(width="55%"))
        right = w.VBox([self.quotes, self.evidence_panel, self.record_panel], layout=w.Layout(width="45%"))
        self.widget = w.HBox([left, right])
        self._load()

    def _fingerprint(self) -> str:
        """A hash of the framework's YAML files as they are on disk now."""
        h = hashlib.sha256()
        for f in sorted(Path(self.path).glob("*.y*ml")):
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        return h.hexdigest()

    def reload(self):
        """Read the framework files again (after they changed on disk); what was typed and not saved is dropped."""
        current = self.item.value
        self.fw = load_framework(self.path)
        self._known = self._fingerprint()
        self.evidence = load_evidence(self.fw)
        self.item.options = self._item_options()
        self.scale.options = self._scale_options()
        self.item.value = current if current in {i.id for i in self.fw.items} else self.fw.items[0].id
        self._load()
        self.message.value = "Reloaded the framework from disk."

    def _item_options(self):
        src = self.fw.languages[0]
        return [(f"{i.id}: {i.stem.get(src, '')[:50]}", i.id) for i in self.fw.items]

    def _scale_options(self):
        own = {s.id for s in self.fw.scales}
        scales = list(self.fw.scales) + [s for s in STANDARD_SCALES if s.id not in own]
        src = self.fw.languages[0]
        return [(f"{s.id}: {' / '.join(o.label.get(src, str(o.code)) for o in s.options)}"
                 + ("" if s.id in own else " (new to this framework)"), s.id) for s in scales]

    def _current(self):
        return self.fw.item(self.item.value)

    def _load(self):
        it = self._current()
        self.stem.value = it.stem.get(self.language.value, "")
        self.scale.value = it.scale
        self.quotes.value = tuple(q for q in it.provenance.quotes if q in set(self.evidence.quotes["id"]))
        if self.language.value in RTL:
            self.stem.add_class("mk-rtl")
        else:
            self.stem.remove_class("mk-rtl")
        self._update_checks()
        self._update_evidence()
        self._update_record()
        self.message.value = ""

    def _interview_log(self):
        from measurekit.design.interviews import find_log, load_interviews

        log = find_log(self.fw.path)
        return load_interviews(log, self.fw) if log is not None else None

    def _update_record(self):
        """What the cognitive interviews found for this item and what was changed (design.interviews)."""
        if self.interviews is None:
            self.record_panel.value = ""
            return
        rows = self.interviews[self.interviews["item"] == self.item.value]
        if rows.empty:
            self.record_panel.value = "<p><i>No cognitive interviews recorded for this item yet.</i></p>"
            return
        lines = "".join(f"<li>{html.escape(r.date)} [{html.escape(r.language)}] <b>{html.escape(r.problem_type)}</b>: "
                        f"{html.escape(r.understood)}"
                        + (f" <i>Changed: {html.escape(r.change_made)}</i>" if r.change_made else "")
                        + "</li>" for r in rows.itertuples(index=False))
        self.record_panel.value = f"<p><b>Cognitive interviews ({len(rows)})</b></p><ul>{lines}</ul>"

    def _edited(self):
        self.message.value = ""      # an old "Saved" or "Not saved" no longer describes what is on screen
        self._update_checks()

    def findings(self):
        """Wording findings for the text in the box, plus a scale_inconsistent finding when the chosen scale
        differs from the other items of the item's domain."""
        found = check_stem(self.stem.value, self.item.value, self.language.value, self.config)
        it = self._current()
        if self.language.value in it.outdated_translations:
            found.append(outdated_translation(it, self.language.value, self.fw.languages[0]))
        others = {i.scale for i in self.fw.items_in(it.domain, respondent=None) if i.id != it.id}
        if others and self.scale.value not in others:
            found.append(Finding.about(it.id, self.language.value, "scale_inconsistent", "warning",
                                 f"The other items of domain {it.domain} use {', '.join(sorted(others))}; scores of "
                                 "items on different scales cannot simply be averaged.",
                                 "Keep one response scale per domain, or move the item to another domain."))
        return found

    def _update_checks(self):
        found = self.findings()
        if not [f for f in found if f.severity in BLOCKING]:
            info = "".join(f"<li><small>{html.escape(f.code)}: {html.escape(f.message)}</small></li>" for f in found)
            self.checks.value = ("<p style='color:#2e7d32'>&#10003; No wording problems found.</p>"
                                 + (f"<ul>{info}</ul>" if info else ""))
            return
        rows = "".join(f"<li><b>{html.escape(f.severity)} {html.escape(f.code)}</b>: {html.escape(f.message)} "
                       f"<i>Try: {html.escape(f.suggestion)}</i></li>" for f in found)
        self.checks.value = f"<ul>{rows}</ul>"

    def _update_evidence(self):
        q = self.evidence.quotes.set_index("id")
        chosen = [i for i in self.quotes.value if i in q.index]
        if not chosen:
            self.evidence_panel.value = ("<p><i>No evidence linked: every item should trace back to what families "
                                         "said.</i></p>")
            return
        items = "".join(f"<li>&ldquo;{html.escape(q.at[i, 'text'])}&rdquo; "
                        f"<small>({html.escape(q.at[i, 'voice_group'])}, "
                        f"{html.escape(q.at[i, 'setting'])})</small></li>" for i in chosen)
        self.evidence_panel.value = f"<ul>{items}</ul>"

    def save(self):
        """Apply the edits to the item, add a history entry and write the YAML files."""
        if not self.who.value.strip() or not self.reason.value.strip():
            self.message.value = "<b style='color:#c62828'>Say who made the change and why before saving.</b>"
            return False
        if self._fingerprint() != self._known and not self.replace.value:
            self.message.value = ("<b style='color:#c62828'>Not saved: the framework files changed on disk since the "
                                  "drafter loaded them</b> (another drafter, a hand edit or another notebook saved "
                                  "them). Copy your wording, press \"Reload from disk\" and apply it again, or tick "
                                  "\"Replace the files on disk\" to save over those changes.")
            return False
        candidate = self.fw.model_copy(deep=True)
        candidate.path = self.fw.path
        it = candidate.item(self.item.value)
        lang, src = self.language.value, candidate.languages[0]
        new_text = self.stem.value.strip()
        if lang == src and new_text != it.stem.get(src, ""):
            it.outdated_translations = [x for x in candidate.languages[1:] if it.stem.get(x)]
        elif lang != src:
            it.outdated_translations = [x for x in it.outdated_translations if x != lang]
        it.stem[lang] = new_text
        if self.scale.value not in {s.id for s in candidate.scales}:
            candidate.scales.append(next(s for s in STANDARD_SCALES if s.id == self.scale.value).model_copy(deep=True))
        it.scale = self.scale.value
        q = self.evidence.quotes.set_index("id")
        it.provenance.quotes = list(self.quotes.value)
        themes = [t for i in self.quotes.value for t in q.at[i, "themes"]]
        it.provenance.themes = list(dict.fromkeys(it.provenance.themes + themes))
        groups = [g for g in dict.fromkeys(q.loc[list(self.quotes.value), "voice_group"]) if g in VOICE_GROUPS]
        it.provenance.groups = list(dict.fromkeys(list(it.provenance.groups) + groups))
        it.history.append(HistoryEntry(status=self.status.value, date=dt.date.today().isoformat(),
                                       by=self.who.value.strip(), reason=self.reason.value.strip()))
        problems = check_consistency(candidate)
        if not problems.ok:   # check before writing, so a bad edit never reaches the YAML files
            msgs = "".join(f"<li>{html.escape(p.code)}: {html.escape(p.message)}</li>" for p in problems.errors)
            self.message.value = f"<b style='color:#c62828'>Not saved:</b><ul>{msgs}</ul>"
            return False
        open_problems = [f for f in self.findings() if f.severity in BLOCKING]
        if open_problems:
            codes = ", ".join(dict.fromkeys(f.code for f in open_problems))
            if not (self.override.value and self.override_reason.value.strip()):
                self.message.value = (f"<b style='color:#c62828'>Not saved: {len(open_problems)} open wording "
                                      f"problem(s) ({html.escape(codes)}).</b> Fix them, or tick \"Save anyway\" and "
                                      "say why the wording is kept; the reason is recorded in the item's history.")
                return False
            it.history[-1] = it.history[-1].model_copy(update={"reason": it.history[-1].reason + (
                f" [saved with open problems: {codes}; because: {self.override_reason.value.strip()}]")})
        save_framework(candidate, self.path)
        self.fw = load_framework(self.path)  # re-read what was written
        self._known = self._fingerprint()
        self.replace.value = False
        saved = it.id
        # the next save is a new change: clear who/why and the override, refresh the lists
        self.who.value = self.reason.value = self.override_reason.value = ""
        self.override.value = False
        self.item.options = self._item_options()
        self.scale.options = self._scale_options()
        self.item.value = saved
        self._load()
        outdated = self.fw.item(saved).outdated_translations
        note = (f" The wording in {', '.join(outdated)} is now marked out of date: translate the new wording."
                if lang == src and outdated else "")
        self.message.value = f"<b style='color:#2e7d32'>Saved {saved} ({self.status.value}).</b>{html.escape(note)}"
        return True

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
