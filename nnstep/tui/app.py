"""The nnstep TUI: step through one training step one scalar op at a time.

The app renders the engine's state and sends it commands; it holds no maths of
its own.  Values come from :class:`nnstep.Debugger`, formulas from
:class:`nnstep.symbolic.Symbolic` (rendered once per scenario in a worker, see
:mod:`nnstep.tui.formulas`).  Long runs go to a thread worker with a progress
bar and can be interrupted with esc.

This module is the shell: the panes' layout, refreshing them, the keys' actions.
The parts it hosts are in :mod:`.opening` (loading a scenario, the formula worker),
:mod:`.runs` (long runs, play, go to) and :mod:`.commands` (the command palette,
which reaches the app through :class:`nnstep.tui.host.Host`, never by importing it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Label, ProgressBar

from nnstep.debugger import Debugger, Edit, Stop
from nnstep.errors import NNStepError
from nnstep.position import At
from nnstep.scenario import Scenario
from nnstep.text import visible

from . import background
from .commands import NNStepCommands
from .components.errors import ErrorView
from .components.footer import KeyFooter, footer_tier
from .components.formula import VIEWS, FormulaView
from .components.network import NetworkModel, NetworkView
from .components.program import ProgramView
from .components.status import StatusBar, status_text
from .components.values import ValuesView
from .exporting import ExportDone, export_done, start_export
from .fmt import num
from .formulas import FormulaBook
from .keys import bindings
from .opening import Opening
from .runs import SPEEDS, Runs, loss_history
from .screens.breakpoints import BreakpointsScreen
from .screens.edit import EditScreen, suggested_name
from .screens.goto import GotoScreen
from .screens.help import HelpScreen
from .screens.open import OpenScreen
from .screens.watches import WatchesScreen
from .slot import NETWORK, SlotView, slot_views

#: Below this many columns the bottom row shows the network or the values, not both.
NARROW = 100
#: Actions that need a loaded scenario and an idle debugger.
MOVES = {"step", "back", "finish", "play", "speed", "toggle_breakpoint", "conditions", "goto", "restart",
         "cycle_view", "clear_breakpoints", "toggle_heatmap"}
MOVES |= {"edit", "watches", "save_session", "clear_edits"}  # issue #14: what-if edits, watches, sessions
MOVES.add("export")  # writes the current step's handout (it steps the sample in a worker)


class NNStepApp(Opening, Runs, App):
    """``NNStepApp(scenario)``: a bundled name, a path, a loaded :class:`Scenario`, or
    None for the note's network."""

    CSS_PATH = "app.tcss"
    TITLE = "nnstep"
    COMMANDS = App.COMMANDS | {NNStepCommands}
    BINDINGS = bindings()

    def __init__(self, scenario: str | Path | Scenario | None = None, *, seed: int | None = None,
                 epochs: int | None = None, at: At | None = None) -> None:
        super().__init__()
        self.scenario_arg = scenario
        # the command line's flags (nnstep SCENARIO --seed S --epochs N --at E:S:O): for this
        # scenario and its reloads; another scenario opened with o gets its file's own
        self.first_open = (seed, epochs, at)
        self.overrides: tuple[int | None, int | None] = (None, None)  # (seed, epochs) of the open run
        self.last_open: tuple[str | Path | Scenario | None, int | None, int | None] | None = None
        self.file_stamp: tuple[Path, tuple[int, int] | None] | None = None  # the open file and its mtime, size
        self.file_changed_said: tuple[int, int] | None = None  # the change "file changed" was toasted for
        self.dbg: Debugger | None = None
        self.book: FormulaBook | None = None
        self.network_model: NetworkModel | None = None
        self.load_error: BaseException | None = None
        self.view = "symbols"
        self.shown_op = 0  # the op whose formula is shown (the program's selection)
        self.playing = False
        self.speed_index = SPEEDS.index(4)
        self._play_timer = None
        self._play_last = 0.0
        self._play_credit = 0.0
        self.busy = ""  # what a worker is running, '' when idle
        self._cancel = False
        self._job: background.Job | None = None  # opening a scenario, off the UI thread
        self._run_start = (0.0, 0)  # when the run started, and where (t)
        self._run_losses: list[float] = []  # epoch losses seen while a run goes on
        self._run_done = 0  # the epochs done when the last of them was added
        self._status_width = 80  # the room the status text had last (for the worker)
        self.term_width = 120  # the terminal's width, as the last resize said
        self._losses: list[float] = []
        self._losses_done = 0
        self.last_stop: Stop | None = None
        self.last_run_threaded = False  # whether the last run went to a worker
        self._bindings_shown: tuple | None = None
        self.message = ""
        self.message_short = ""  # the message for a narrow status bar
        self.restart_undo: int | None = None  # right after a restart: where it was (p returns)
        self.edit_undo: Edit | None = None  # right after a what-if edit: that edit (p undoes it)
        self.pending_session: tuple[Debugger, list[str], str] | None = None  # --session: opened first
        self.session_file: Path | None = None  # where ctrl+s saves (the restored file, else beside the scenario)
        # the panes every step redraws, kept at hand (a query walks the DOM: a tenth of a ms each)
        self.program_pane = ProgramView(id="program")
        self.formula_pane = FormulaView(id="formula")
        self.network_pane = NetworkView(id=NETWORK)
        self.values_pane = ValuesView(id="values")
        self.status_bar = StatusBar(id="status")

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield self.status_bar
        with Vertical(id="panes"):
            with Horizontal(id="top"):
                yield self.program_pane
                yield self.formula_pane
            with Horizontal(id="bottom"):
                with ContentSwitcher(initial=NETWORK, id="slot"):
                    yield self.network_pane
                    for spec in slot_views():
                        yield spec.make(spec.id)
                yield self.values_pane
        yield ErrorView(id="error")
        # in the flow above the footer (both docked at the bottom would overlap)
        with Horizontal(id="run"):
            yield Label("", id="run-label")
            yield ProgressBar(total=1.0, show_eta=False, id="run-progress")
            yield Label(" esc stops", id="run-hint")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self._apply_width()
        self.program_pane.border_title = "Program"
        self.formula_pane.border_title = "Formula"
        self.network_pane.border_title = "Network"
        self.values_pane.border_title = "Values"
        for spec in slot_views():
            self.query_one(f"#{spec.id}").border_title = spec.title
        self.set_interval(2.0, self.poll_file)  # "file changed: ctrl+r reloads"
        if self.pending_session is not None:
            self.open_session()
            return
        seed, epochs, at = self.first_open
        self.open_scenario(self.scenario_arg, seed=seed, epochs=epochs, at=at)

    # ------------------------------------------------------------------ refresh

    def refresh_panes(self) -> None:
        """Bring every pane up to the debugger's position."""
        dbg = self.dbg
        if dbg is None:
            return
        self._sync_losses()
        program = self.program_pane
        program.sync()
        sample = dbg.sample
        inputs = ", ".join(f"{n} = {v:g}" for n, v in zip(dbg.program.inputs, sample.x))
        # a sample's name is text from the file: never markup, never raw control characters
        title = visible(f"Program · {sample.name}" + (f" ({inputs})" if inputs else ""))
        if program.border_title != title:  # setting a border title repaints the whole pane
            program.border_title = Content(title)
        self.shown_op = program.selected
        self.values_pane.sync()
        self.sync_slot()
        self.update_formula(reset=True)
        self.update_status()
        self.update_bindings()

    @property
    def slot(self) -> str:
        """The id of the view in the bottom-left slot (:data:`nnstep.tui.slot.NETWORK` by default)."""
        return self.query_one("#slot", ContentSwitcher).current or NETWORK

    def sync_slot(self) -> None:
        """Bring the slot's view up to the debugger (only the one shown is redrawn)."""
        dbg = self.dbg
        if dbg is None:
            return
        if self.slot == NETWORK:
            assert self.network_model is not None
            self.network_pane.show(self.network_model.scene(dbg))
        else:
            view: SlotView = self.query_one(f"#{self.slot}")  # type: ignore[assignment]
            view.sync(dbg)

    def action_show_view(self, view: str) -> None:
        """Show ``view`` in the bottom-left slot; its key again brings the network back."""
        if self.dbg is None:
            return
        switcher = self.query_one("#slot", ContentSwitcher)
        hidden = switcher.visible_content
        switcher.current = NETWORK if switcher.current == view else view
        focused = self.focused
        if hidden is not None and focused is not None and (focused is hidden or hidden in focused.ancestors):
            # the focus leaves a hidden view now, not a frame later: to the one shown, or the program
            shown = switcher.visible_content
            (shown if shown is not None and shown.focusable else self.program_pane).focus()
        if self.narrow:
            self.screen.remove_class("-show-values")
        if not self.busy:
            self.sync_slot()
        self.update_bindings()

    def update_status(self) -> None:
        dbg = self.dbg
        if dbg is None:
            return
        bar = self.status_bar
        extra, short = self.message, self.message_short or self.message
        if self.playing:
            speed = f"{SPEEDS[self.speed_index]:g} op/s"
            extra = f"▶ playing {speed}" + (f" · {extra}" if extra else "")
            short = f"▶ {speed}" + (f" · {short}" if short else "")
        bar.show(lambda width: status_text(dbg, width, extra, short), self._losses)

    def _sync_losses(self) -> None:
        dbg = self.dbg
        if dbg is None or self._losses_done == dbg.epochs_done:
            return
        self._losses = loss_history(dbg)
        self._losses_done = dbg.epochs_done

    @property
    def narrow(self) -> bool:
        return self.term_width < NARROW

    def on_resize(self, event: events.Resize) -> None:
        # the event's size: the app's own may still be the previous one here
        self._apply_width(event.size.width)
        if self.dbg is not None and not self.busy:
            self.call_after_refresh(self._after_resize)

    def _apply_width(self, width: int | None = None) -> None:
        self.term_width = self.size.width if width is None else width
        narrow = self.narrow
        self.screen.set_class(narrow, "-narrow")
        if not narrow:
            self.screen.remove_class("-show-values")
        self.update_bindings()

    def _after_resize(self) -> None:
        if self.dbg is not None and not self.busy:
            self.values_pane.sync()
            if self.slot == NETWORK:
                net = self.network_pane
                net.show(net.scene)  # the new size may want the heat map instead (or back)
            else:
                self.sync_slot()
            self.program_pane.sync()
            self.program_pane.select(self.shown_op, announce=False)
            self.update_formula(reset=False)
            self.update_status()

    # ------------------------------------------------------------------ actions

    def action_command_palette(self) -> None:
        from .screens.palette import NNStepPalette

        if self.use_command_palette and not NNStepPalette.is_open(self):
            self.push_screen(NNStepPalette(id="--command-palette"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            return bool(self.busy)
        if action == "toggle_values":
            return self.narrow and self.dbg is not None
        if action in ("zoom", "show_view"):
            return self.dbg is not None
        if action in ("quit", "help", "open") and not self.busy:
            return True
        if action == "reload":
            return not self.busy and (self.dbg is not None or self.last_open is not None)
        if action not in MOVES and action != "open":
            return True
        if self.dbg is None:
            return False if action != "open" else True
        if self.busy:
            return None
        dbg = self.dbg
        if action == "back" and (self.restart_undo is not None or self.edit_undo is not None):
            return True
        if action in ("back", "restart"):
            return None if dbg.at_start else True
        if action in ("step", "finish"):
            return None if dbg.at_end else True
        if action == "play":
            return None if dbg.at_end and not self.playing else True
        return True

    def _binding_state(self) -> tuple:
        dbg = self.dbg
        if dbg is None:
            return (None, bool(self.busy), footer_tier(self.term_width))
        return (dbg.at_start, dbg.at_end, bool(self.busy), self.playing, footer_tier(self.term_width), id(dbg),
                self.restart_undo is not None, self.edit_undo is not None)

    def update_bindings(self) -> None:
        """Refresh the footer only when a key's enabled state can have changed (the
        footer recomposes on every refresh, which would make each step slow)."""
        state = self._binding_state()
        if state != self._bindings_shown:
            self._bindings_shown = state
            self.refresh_bindings()

    def allowed(self, action: str) -> bool:
        name = action.split("(", 1)[0]
        return self.check_action(name, ()) is True

    def moved(self, message: str = "", short: str = "") -> None:
        """The debugger moved: every pane follows; ``message`` (``short`` where the
        status bar is narrow) is shown in the status bar until the next move."""
        self.message = message
        self.message_short = short
        self.restart_undo = None
        self.edit_undo = None
        self.refresh_panes()

    def action_step(self) -> None:
        if self.allowed("step"):
            self.dbg.step()  # type: ignore[union-attr]
            self.moved()

    def action_back(self) -> None:
        if not self.allowed("back"):
            return
        if self.restart_undo is not None:  # right after a restart: back to where it was
            self.goto(self.restart_undo, "returning")
        elif self.edit_undo is not None:  # right after a what-if edit: undo it
            self.undo_edit()
        else:
            self.dbg.back()  # type: ignore[union-attr]
            self.moved()

    def action_restart(self) -> None:
        if self.allowed("restart"):
            self.stop_playing()
            dbg = self.dbg
            assert dbg is not None
            before = dbg.t
            dbg.restart()
            self.moved("restarted · p returns", "restarted · p returns")
            self.restart_undo = before  # until the next move (moved() forgets it)
            self.update_bindings()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen in the working directory (Textual's default, the
        Downloads folder, may not exist) and say where; in a browser, Textual delivers it."""
        if self.is_web:
            super().action_screenshot(filename, path)
            return
        try:
            saved = self.save_screenshot(filename or self.screenshot_name(), path or os.getcwd())
        except OSError as err:
            self.notify(visible(f"Could not save the screenshot: {err}"), severity="error", timeout=8, markup=False)
            return
        self.notify(visible(f"Screenshot saved to {saved}"), title="Screenshot", timeout=6, markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's palette commands, with "Screenshot" saving where :meth:`action_screenshot` does."""
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":  # after the palette has closed, as Textual's does
                command = SystemCommand("Screenshot", "Save an SVG of the screen in the working directory",
                                        lambda: self.set_timer(0.1, self.action_screenshot))
            yield command

    def screenshot_name(self) -> str:
        """``nnstep-xor-epoch1-sample2-op3.svg``: the scenario and the position (from 1)."""
        dbg = self.dbg
        if dbg is None:
            return "nnstep.svg"
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", dbg.scenario.name).strip("-.") or "scenario"
        if dbg.at_start:
            return f"nnstep-{name[:60]}-start.svg"
        epoch, sample, op = dbg.position()
        return f"nnstep-{name[:60]}-epoch{epoch + 1}-sample{sample + 1}-op{op + 1}.svg"

    # -- breakpoints, go to, views ------------------------------------------------

    def action_toggle_breakpoint(self) -> None:
        if not self.allowed("toggle_breakpoint"):
            return
        program = self.program_pane
        name = self.dbg.ops[program.selected].name  # type: ignore[union-attr]
        self.dbg.toggle_breakpoint(name)  # type: ignore[union-attr]
        program.refresh()  # the gutter shows it

    def palette_breakpoint(self, name: str) -> None:
        if self.allowed("toggle_breakpoint"):
            on = self.dbg.toggle_breakpoint(name)  # type: ignore[union-attr]
            self.program_pane.refresh()
            self.notify(f"breakpoint {'set on' if on else 'removed from'} {name}", timeout=2, markup=False)

    def action_clear_breakpoints(self) -> None:
        if self.allowed("clear_breakpoints"):
            self.dbg.clear_breakpoints()  # type: ignore[union-attr]
            self.program_pane.refresh()
            self.notify("all breakpoints cleared", timeout=2, markup=False)

    def action_conditions(self) -> None:
        if self.allowed("conditions"):
            self.push_screen(BreakpointsScreen(self.dbg), lambda _: self.program_pane.refresh())  # type: ignore[arg-type]

    def action_goto(self) -> None:
        if not self.allowed("goto"):
            return

        def done(result: tuple[int, int, int] | None) -> None:
            if result is not None and self.dbg is not None:
                e, s, o = result
                dbg = self.dbg
                self.goto((e * dbg.sample_count + s) * dbg.op_count + o + 1)

        self.push_screen(GotoScreen(self.dbg), done)  # type: ignore[arg-type]

    def palette_jump_op(self, index: int) -> None:
        if self.allowed("goto"):
            dbg = self.dbg
            assert dbg is not None
            self.goto((dbg.sample_global if dbg.t < dbg.total else dbg.sample_global - 1) * dbg.op_count
                      + index + 1)

    def palette_jump_sample(self, sample: int) -> None:
        if self.allowed("goto"):
            dbg = self.dbg
            assert dbg is not None
            self.goto((dbg.epoch * dbg.sample_count + sample) * dbg.op_count + 1)

    def on_program_view_jump(self, message: ProgramView.Jump) -> None:
        self.palette_jump_op(message.index)

    def on_program_view_selected(self, message: ProgramView.Selected) -> None:
        self.shown_op = message.index
        self.update_formula(reset=True)

    def action_cycle_view(self) -> None:
        if self.allowed("cycle_view"):
            self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
            self.update_formula(reset=True)

    def action_toggle_heatmap(self) -> None:
        if self.allowed("toggle_heatmap"):
            net = self.network_pane
            net.compact = not net.compact
            net.show(net.scene)

    def action_zoom(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        else:
            target = screen.focused if screen.focused is not None else self.program_pane
            screen.maximize(target, container=False)
        self.call_after_refresh(self._after_resize)

    def action_toggle_values(self) -> None:
        if self.narrow:
            self.screen.toggle_class("-show-values")
            self.call_after_refresh(self._after_resize)

    def action_open(self) -> None:
        if self.busy:
            return

        def done(result: tuple[str, Scenario] | None) -> None:
            if result is not None:
                self.open_scenario(result[1])  # its program is built off the UI thread

        self.push_screen(OpenScreen(), done)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def palette_action(self, action: str) -> None:
        """Run a key's action from the command palette, if the key could act now."""
        if self.allowed(action):
            self.call_later(self.run_action, action)
        else:
            self.bell()
            self.notify("not available right now", timeout=2, markup=False)

    def action_export(self, fmt: str = "markdown") -> None:
        """``x``: the current sample's worked example in the working directory (:mod:`.exporting`)."""
        if self.allowed("export"):
            self.stop_playing()
            start_export(self, fmt)

    def on_export_done(self, message: ExportDone) -> None:
        export_done(self, message)

    async def action_quit(self) -> None:
        self._cancel = True
        if self._job is not None:
            self._job.cancel()
        self.stop_playing()
        self.exit()

    # -- what-if edits, watches, sessions (issue #14) -------------------------------

    def action_edit(self, name: str = "") -> None:
        """``=``: the what-if dialog, the name suggested by the selected op."""
        if not self.allowed("edit"):
            return
        dbg = self.dbg
        assert dbg is not None
        self.stop_playing()
        name = name or suggested_name(dbg, dbg.ops[self.shown_op] if dbg.ops else None)
        before = dbg.values()
        self.push_screen(EditScreen(dbg, name), lambda made: self.edited(made, before))

    def palette_edit(self, name: str, text: str) -> None:
        """The palette's ``set NAME = FORMULA``: the edit at once, or its error as a toast."""
        if not self.allowed("edit"):
            self.bell()
            return
        dbg = self.dbg
        assert dbg is not None
        self.stop_playing()
        before = dbg.values()
        try:
            made = dbg.edit(name, text)
        except NNStepError as exc:
            self.notify(visible(exc.reason), title="Cannot set", severity="error", timeout=6, markup=False)
            return
        self.edited(made, before)

    def edited(self, made: Edit | None, before: dict[str, float | None]) -> None:
        """After an edit: every pane follows, the values it changed show before → now,
        and p right after undoes it."""
        dbg = self.dbg
        if made is None or dbg is None:
            return
        count = len(dbg.edits)
        message = f"set {made.name} = {made.text} · p undoes"
        self.moved(message, f"set {made.name} · p undoes")
        self.values_pane.show_edit(before)
        self.edit_undo = made
        self.update_bindings()
        self.notify(f"{made.name}: {num(made.old)} → {num(made.value)} ({count} edit{'s' * (count != 1)})",
                    title="What if", timeout=3, markup=False)

    def undo_edit(self) -> None:
        dbg = self.dbg
        made = self.edit_undo
        self.edit_undo = None
        if made is None or dbg is None or not dbg.edits or dbg.edits[-1] is not made:
            return
        before = dbg.values()
        dbg.undo_edit()
        self.moved(f"undid {made.name} = {made.text}", "edit undone")
        self.values_pane.show_edit(before)

    def action_clear_edits(self) -> None:
        if self.allowed("clear_edits") and self.dbg is not None and self.dbg.edits:
            self.dbg.clear_edits()
            self.moved("every what-if edit removed", "edits removed")

    @property
    def watch_texts(self) -> list[str]:
        """The watch expressions (kept across restart and opening another scenario)."""
        return self.values_pane.watch_texts

    def action_watches(self) -> None:
        if not self.allowed("watches"):
            return

        def done(texts: list[str] | None) -> None:
            if texts is not None:
                self.values_pane.set_watches(texts)

        self.push_screen(WatchesScreen(self.dbg, self.watch_texts), done)  # type: ignore[arg-type]

    def action_save_session(self) -> None:
        """``ctrl+s``: save breakpoints, conditions, watches, edits and the position."""
        if not self.allowed("save_session"):
            return
        from nnstep import session

        dbg = self.dbg
        assert dbg is not None
        source = self.scenario_arg if not isinstance(self.scenario_arg, Scenario) else dbg.scenario.source
        path = self.session_file or session.default_path(dbg.scenario, source)
        try:
            saved = session.save(session.session_of(dbg, session.scenario_ref(dbg.scenario, source, path),
                                                    self.watch_texts), path)
        except NNStepError as exc:
            self.notify(visible(str(exc)), title="Session not saved", severity="error", timeout=8, markup=False)
            return
        self.session_file = saved
        self.notify(visible(f"Session saved to {saved}"), title="Session", timeout=6, markup=False)

    def use_session(self, dbg: Debugger, watches: list[str], path: str) -> None:
        """Open on a restored session (``nnstep SCENARIO --session FILE``), before running."""
        self.pending_session = (dbg, list(watches), path)

    def open_session(self) -> None:
        assert self.pending_session is not None
        dbg, watches, path = self.pending_session
        self.pending_session = None
        self.session_file = Path(path)
        self.values_pane.watch_texts = watches
        self.use_debugger(dbg, NetworkModel(dbg))
        n = len(dbg.edits)
        self.message = self.message_short = f"session {Path(path).name} restored" + (
            f" ({n} edit{'s' * (n != 1)})" if n else "")
        self.update_status()
    def action_loss_log(self) -> None:
        """Palette: the loss curve with a log-scale loss axis (again: linear); shows the curve."""
        if self.dbg is None:
            return
        if self.slot != "loss":
            self.action_show_view("loss")
        self.query_one("#loss").action_toggle_log()  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ for tests

    def pane_texts(self) -> dict[str, str]:
        """Every pane's full content as plain text (what a test compares)."""
        out = {
            "status": self.status_bar.plain,
            "program": "\n".join(self.program_pane.styled_lines()),
            "formula": self.formula_pane.plain,
            "network": self.network_pane.plain(),
            "values": "\n".join(self.values_pane.styled_lines()),
        }
        return out
