"""The values pane: every named quantity with its current value."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text

from nnstep.text import visible

from ..fmt import num
from .health import MARK, MARKS
from .rows import SCROLL_BINDINGS, RowList, style_of

if TYPE_CHECKING:
    from nnstep.debugger import Debugger, Watch

GROUPS = (
    ("inputs", "inputs (this sample)"),
    ("targets", "target and learning rate"),
    ("parameters", "parameters (old → new)"),
    ("forward", "forward"),
    ("loss", "loss"),
    ("backward", "gradients"),
)

#: Columns a number takes at most (see nnstep.tui.fmt.num).
VALUE_W = 10


class ValuesView(RowList, can_focus=True):
    """Names grouped as inputs, targets, parameters, forward values, the loss and
    gradients; the name the last op wrote is highlighted and kept in view."""

    COMPONENT_CLASSES = {"values--heading", "values--changed", "values--pending", "values--name", "values--new",
                         "values--nonfinite", "values--flag"}
    DEFAULT_CSS = """
    ValuesView > .values--heading { color: $text-accent; text-style: bold; }
    ValuesView > .values--changed { background: $accent 40%; text-style: bold; }
    ValuesView > .values--pending { color: $text-muted; }
    ValuesView > .values--name { color: $text; }
    ValuesView > .values--new { color: $text-warning; text-style: bold; }
    ValuesView > .values--nonfinite { color: $text-error; text-style: bold reverse; }
    ValuesView > .values--flag { color: $text-error; text-style: bold; }
    """

    BINDINGS = [*SCROLL_BINDINGS]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.dbg: Debugger | None = None
        self.row_of: dict[str, int] = {}
        self.changed = ""
        self.old: dict[str, float] = {}
        self.name_w = 8  # the names' column: as wide as the longest name …
        self.group_w: dict[str, int] = {}  # … or, where that leaves too little room, of the name's group
        #: watch expressions (``w``): kept here across restarts and scenarios, compiled per debugger
        self.watch_texts: list[str] = []
        self.watches: list[Watch | str] = []  # compiled, or why it cannot be for this program
        #: right after a what-if edit: each name the edit changed, with its value before
        self.diff: dict[str, float | None] = {}
        self.flags: dict[str, str] = {}  # health: neuron -> "saturated" / "dead"
        self.group_rows: dict[str, tuple[int, int]] = {}  # name -> its group's heading row and last row

    def load(self, dbg: Debugger | None) -> None:
        self.dbg = dbg
        rows: list[tuple[str, object]] = []
        self.row_of = {}
        self.group_w = {}
        self.diff = {}
        self._compile_watches()
        if dbg is not None and self.watches:
            rows.append(("heading", "watches (w)"))
            rows.extend(("watch", i) for i in range(len(self.watches)))
        self.group_rows = {}
        if dbg is not None:
            prog = dbg.program
            members = {
                "inputs": list(prog.inputs),
                "targets": [*prog.targets, "learn_rate"],
                "parameters": list(prog.parameters),
                "forward": [op.name for op in prog.ops if op.phase == "forward"],
                "loss": [op.name for op in prog.ops if op.phase == "loss"],
                "backward": [op.name for op in prog.ops if op.phase == "backward"],
            }
            titles = dict(GROUPS)
            if not prog.targets:
                titles["targets"] = "learning rate"
            if dbg.scenario.form == "graph":
                titles["loss"] = "output"
            for key, _ in GROUPS:
                names = members[key]
                if not names:
                    continue
                rows.append(("heading", titles[key]))
                width = max(len(n) for n in names)
                span = (len(rows) - 1, len(rows) + len(names) - 1)
                for n in names:
                    self.group_w[n] = width
                    self.group_rows[n] = span
                    self.row_of[n] = len(rows)
                    rows.append(("name", n))
        self.name_w = max(self.group_w.values(), default=8)
        self.changed = ""
        self.set_rows(rows)

    def sync(self) -> None:
        if self.dbg is None:
            return
        op = self.dbg.current_op
        self.diff = {}
        self.changed = op.name if op is not None else ""
        self.old = self.dbg.old_parameters()
        self.flags = MARKS.of(self.dbg)
        if self.changed in self.row_of:
            self.keep_in_view(self.changed)
        else:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh_rows()

    def on_resize(self) -> None:
        # the changed value stays in sight at the pane's new height (see ProgramView.on_resize)
        if self.dbg is not None and self.changed in self.row_of:
            self.keep_in_view(self.changed)

    def keep_in_view(self, name: str) -> None:
        """Scroll so that ``name``'s group shows from its heading, when the group fits the
        pane (the updates, in an order other than the rows', then keep one view), else in
        pages of the group a quarter of the pane from its edges (see
        :meth:`~.rows.RowList.keep_row_in_view`): the position depends on the name alone
        and changes a few times a sample."""
        pinned = self.pinned  # the watches stay above the scrolled rows
        height = self.scrollable_content_region.height - pinned
        if height <= 0:
            return
        first, _ = self.group_rows[name]
        margin = height // 4
        step = max(1, height - 2 * margin)
        top = first - pinned + max(0, self.row_of[name] - first - margin) // step * step
        top = max(0, min(top, round(self.max_scroll_y)))
        if top != round(self.scroll_offset.y):
            self.scroll_to(y=top, animate=False, immediate=True)

    def row_key(self, index: int, width: int) -> tuple | None:
        kind, what = self.rows[index]
        if kind == "heading":
            return (kind, what)
        if kind == "watch":  # a watch's value is computed: drawn and compared
            return None
        dbg = self.dbg
        assert dbg is not None
        name = str(what)
        update = dbg.program.by_name.get(name)
        return (name, dbg.value(name), self.diff.get(name, ()), self.old.get(name, ()),
                update is not None and update.index <= dbg.op_index, self.flags.get(name), name == self.changed,
                self.name_w, self.group_w.get(name))

    def row_text(self, index: int, width: int) -> Text:
        kind, what = self.rows[index]
        if kind == "heading":
            return Text(f"── {what} ".ljust(width, "─")[:width], style=style_of(self, "values--heading"))
        dbg = self.dbg
        assert dbg is not None
        if kind == "watch":
            return self._watch_text(int(what), width)  # type: ignore[call-overload]
        name = str(what)
        value = dbg.value(name)
        if name in self.diff:  # what the edit changed: before → now
            return self._diff_text(name, self.diff[name], value, width)
        need = VALUE_W * 2 + 3 if name in self.old else VALUE_W  # old → new, or one number
        name_w = min(self.name_w, max(self.group_w.get(name, 8), width - 2 - need))
        name_w = min(name_w, max(6, width - 14))
        t = Text(no_wrap=True)
        t.append(f" {name:<{name_w}} ", style_of(self, "values--name" if value is not None else "values--pending"))
        if name in self.old:
            old = self.old[name]
            update = dbg.program.by_name.get(name)
            if value is not None and update is not None and update.index <= dbg.op_index:
                t.append(num(old))
                t.append(" → ")
                t.append(num(value), style_of(self, "values--new"))
            else:
                t.append(num(value))
        elif value is not None and not math.isfinite(value):
            t.append(num(value), style_of(self, "values--nonfinite"))
        else:
            t.append(num(value), None if value is not None else style_of(self, "values--pending"))
        flag = self.flags.get(name)
        if flag:  # health (nnstep.health): saturated on every sample, or a dead ReLU
            t.append(f" {MARK[flag]}", style_of(self, "values--flag"))
        if name == self.changed:
            t.stylize(style_of(self, "values--changed"))
        return t

    # -- what-if edits and watches (issue #14) ------------------------------------------

    def show_edit(self, before: dict[str, float | None]) -> None:
        """After a what-if edit: ``before`` is every value before it; the names whose value
        changed show ``before → now`` (highlighted) until the next move."""
        dbg = self.dbg
        if dbg is None:
            return
        now = dbg.values()
        self.diff = {n: v for n, v in before.items() if not _same(v, now.get(n))}
        rows = [self.row_of[n] for n in self.diff if n in self.row_of]
        if rows:
            self.keep_row_in_view(min(rows))
        self.refresh_rows()

    @property
    def pinned(self) -> int:
        """Rows kept at the top while the rest scrolls: the watches and their heading."""
        return len(self.watches) + 1 if self.watches and self.dbg is not None else 0

    def row_at(self, y: int, top: int | None = None) -> int:
        if y < self.pinned:
            return y
        return y + (round(self.scroll_offset.y) if top is None else top)

    def changed_names(self) -> list[str]:
        """The names the last edit changed (shown as before → now)."""
        return list(self.diff)

    def set_watches(self, texts: list[str]) -> None:
        self.watch_texts = list(texts)
        self.load(self.dbg)
        self.sync()

    def _compile_watches(self) -> None:
        from nnstep.errors import NNStepError

        self.watches = []
        if self.dbg is None:
            return
        for text in self.watch_texts:
            try:
                self.watches.append(self.dbg.watch(text))
            except NNStepError as exc:
                self.watches.append(exc.reason)

    def watch_values(self) -> list[tuple[str, float | None | str]]:
        """Each watch's text and value now: a number, None while a name it reads is not
        computed yet, or why it cannot be computed for this program."""
        dbg = self.dbg
        out: list[tuple[str, float | None | str]] = []
        for text, w in zip(self.watch_texts, self.watches):
            if isinstance(w, str) or dbg is None:
                out.append((text, w if isinstance(w, str) else None))
            elif any(dbg.value(n) is None for n in w.reads):
                out.append((w.text, None))
            else:
                out.append((w.text, dbg.watch_value(w)))
        return out

    def _watch_text(self, i: int, width: int) -> Text:
        text, value = self.watch_values()[i]
        t = Text(no_wrap=True, overflow="ellipsis")
        if isinstance(value, str):
            t.append(f" {visible(text)} ", style_of(self, "values--pending"))
            t.append(f"✗ {value}", style_of(self, "values--nonfinite"))
            return t
        room = max(6, width - VALUE_W - 3)
        shown = text if len(text) <= room else text[: room - 1] + "…"
        t.append(f" {shown:<{min(room, max(self.name_w, len(shown)))}} ", style_of(self, "values--name"))
        if value is not None and not math.isfinite(value):
            t.append(num(value), style_of(self, "values--nonfinite"))
        else:
            t.append(num(value), None if value is not None else style_of(self, "values--pending"))
        return t

    def _diff_text(self, name: str, old: float | None, value: float | None, width: int) -> Text:
        name_w = min(self.name_w, max(6, width - (VALUE_W * 2 + 5)))
        t = Text(no_wrap=True)
        t.append(f" {name:<{name_w}} ", style_of(self, "values--name"))
        t.append(num(old))
        t.append(" → ")
        t.append(num(value), style_of(self, "values--new"))
        t.stylize(style_of(self, "values--changed"))
        return t


def _same(a: float | None, b: float | None) -> bool:
    """Equal values, nan equal to nan (an edit that leaves a nan is no change)."""
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))
