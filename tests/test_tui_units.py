"""Unit tests of the TUI's pieces that need no running app."""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("textual")

import nnstep  # noqa: E402
from nnstep.tui.components.formula import formula_text, wrap_formula  # noqa: E402
from nnstep.tui.components.network import NetworkModel, draw, graph_view, heatmap  # noqa: E402
from nnstep.tui.components.status import status_text  # noqa: E402
from nnstep.tui.fmt import boxed, fit, num, short, signed  # noqa: E402
from nnstep.tui.formulas import SLOT, Form, FormulaBook, _Renderer, chain, fill_placeholders  # noqa: E402
from nnstep.tui.runs import SPARK_POINTS, loss_history  # noqa: E402
from nnstep.tui.screens.goto import parse_position  # noqa: E402


def note() -> nnstep.Debugger:
    return nnstep.Debugger(nnstep.load_scenario())


def test_number_formats():
    assert num(None) == "·" and num(float("nan")) == "nan" and num(float("-inf")) == "-inf"
    assert num(-0.0) == "0" and num(0.0435619040233933) == "0.0435619"
    assert fit(-0.00322615, 9) == "-0.003226" and len(fit(-1.23456789e-12, 9)) <= 9
    assert short(1.76405235) == "1.764" and signed(1.76405235) == "+1.764" and signed(-0.5) == "-0.5"
    assert boxed(-2.0, SLOT) == "(-2)" and boxed(0.5, SLOT) == "0.5" and len(boxed(-1.2345678e-15, SLOT)) <= SLOT


def test_fill_placeholders_closes_up_spare_columns():
    a, b = chr(0xE000) * SLOT, chr(0xE001) * SLOT
    # a product on one line
    assert fill_placeholders([f"{a}⋅(1 - σ({b}))"], ["(-2)", "(-2.97817)"]) == ["(-2)⋅(1 - σ(-2.97817))"]
    # a power: the exponent row moves with the base
    lines = fill_placeholders([" " * (2 * SLOT + 4) + "2", f"({a} - {b})"], ["1", "0.493689"])
    assert lines == ["             2", "(1 - 0.493689)"]
    # a fraction: the bar shrinks to what is left
    lines = fill_placeholders([a, "─" * SLOT, b], ["1", "22.5"])
    assert lines[0].strip() == "1" and lines[2].strip() == "22.5" and set(lines[1]) == {"─"}
    assert len(lines[1]) == 4


def test_chain_aligns_the_equals_signs():
    laid = chain("∂h1/∂w1", [Form((" ∂", "───(σ(s))", "∂w1"), 1), Form(("x1⋅σ(s)",))])
    lines = [line for _, form in laid for line in form.lines]
    assert lines[1].startswith("∂h1/∂w1 = ───") and lines[3] == "        = x1⋅σ(s)"


def test_wrap_formula_breaks_sums_then_products_then_inside_parentheses():
    line = "s = 0.950088 + 1.76405⋅(-2) + 0.400157⋅(-1)"
    assert wrap_formula(line, 4, 4, len(line)) == [line]  # fits: as it is
    assert wrap_formula(line, 4, 4, 32) == ["s = 0.950088 + 1.76405⋅(-2)", "    + 0.400157⋅(-1)"]
    # a product: before its factors; a term too wide: its factors further in
    assert wrap_formula("∂L/∂w2 = d_L_d_ypred⋅d_ypred_d_h1⋅d_h1_d_w2", 9, 9, 32) == [
        "∂L/∂w2 = d_L_d_ypred", "         ⋅d_ypred_d_h1⋅d_h1_d_w2"]
    lines = wrap_formula("L = -y_true_a⋅log(a) - y_true_versicolor⋅log(versicolor) - c⋅log(c)", 4, 4, 32)
    assert lines == ["L = -y_true_a⋅log(a)", "    - y_true_versicolor", "      ⋅log(versicolor)", "    - c⋅log(c)"]
    # inside parentheses only when nothing outside them breaks
    lines = wrap_formula("L = -(y_true_a * log(a) + y_true_versicolor * log(versicolor))", 4, 4, 32)
    assert lines == ["L = -(y_true_a * log(a)", "    + y_true_versicolor", "      * log(versicolor))"]
    assert wrap_formula("x = (1 - σ(-2.97817))⋅σ(-2.97817)", 4, 4, 22) == ["x = (1 - σ(-2.97817))", "    ⋅σ(-2.97817)"]
    assert wrap_formula("x = (1 - σ(-2.97817))⋅σ(-2.97817)", 4, 4, 20) == [
        "x = (1", "    - σ(-2.97817))", "    ⋅σ(-2.97817)"]
    # nothing to break at: the line stays whole (the pane scrolls sideways)
    assert wrap_formula("d_h1_d_b1 = deriv_sigmoid(sum_h1)", 12, 12, 20) == ["d_h1_d_b1 = deriv_sigmoid(sum_h1)"]
    # a unary minus is no break
    assert wrap_formula("y = -2⋅y_true", 4, 4, 8) == ["y = -2", "    ⋅y_true"]


def rendered_book(dbg: nnstep.Debugger) -> FormulaBook:
    book = FormulaBook(dbg.program)
    stop = threading.Event()
    worker = threading.Thread(target=book.run, args=(stop.is_set, lambda _: None))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                book.complete and all(book.get_expanded(i) for i in range(len(book.ops)))):
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join()
    assert book.complete
    return book


@pytest.mark.parametrize("scenario", ["note-network", "circuit"])
def test_formula_text_of_a_whole_sample_fits_a_narrow_pane(scenario):
    # 32 columns: the formula pane at 80x24.  Only 2-D (pretty-printed on several rows)
    # forms may be wider; they scroll sideways
    dbg = nnstep.Debugger(nnstep.load_scenario(scenario))
    book = rendered_book(dbg)
    for index in range(dbg.op_count):
        dbg.step()
        f = book.get(index)
        forms = [step.form for step in f.steps] + [book.get_expanded(index).form or Form(())]
        tall = {line for form in forms if len(form.lines) > 1 for _, laid in chain(f.lhs, [form]) for line in laid.lines}
        for view in ("symbols", "expanded"):
            lines, waiting = formula_text(dbg, book, index, view, 32)
            assert not waiting
            for line in (t.plain for t in lines):
                assert len(line) <= 32 or line in tall, (dbg.ops[index].name, line)
        wide, _ = formula_text(dbg, book, index, "symbols", 200)  # room: no line broken
        assert wide[0].plain == dbg.ops[index].code


def test_formula_book_renders_requested_ops_first_and_everything_eventually():
    dbg = note()
    book = FormulaBook(dbg.program)
    stop = threading.Event()
    ready: list[int] = []
    book.request(24)
    worker = threading.Thread(target=book.run, args=(stop.is_set, ready.append))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not book.complete and time.monotonic() < deadline:
            time.sleep(0.02)
        assert book.complete and book.sympy_ready
        assert ready[:2] == [-1, 24]  # SymPy loaded, then the requested op before any other
        f = book.get(24)
        assert f.lhs == "∂L/∂w1" and [s.caption for s in f.steps] == ["chain rule", "the program's names"]
        assert f.steps[0].form.lines == ("∂L/∂w1 = ∂L/∂ŷ⋅∂ŷ/∂h1⋅∂h1/∂w1",) or "∂L/∂ŷ⋅∂ŷ/∂h1⋅∂h1/∂w1" in \
            f.steps[0].form.lines[0]
        values = {"d_L_d_ypred": -1.01262, "d_ypred_d_h1": 0.466815, "d_h1_d_w1": -0.0921541}
        assert f.numbers.fill(values).lines == ("(-1.01262)⋅0.466815⋅(-0.0921541)",)
        partial = book.get(dbg.program.by_name["d_h1_d_w1"].index)
        assert partial.steps[1].form.lines == ("x1⋅σ(sum_h1)⋅(1 - σ(sum_h1))",)
        assert "\\frac{\\partial h_{1}}{\\partial w_{1}}" in partial.latex
    finally:
        stop.set()
        worker.join()


def test_network_model_maps_names_to_drawn_elements():
    dbg = note()
    model = NetworkModel(dbg)
    assert model.element("sum_h1") == "h1" and model.element("y_pred") == "o1"
    assert model.element("d_ypred_d_h1") == "w5"  # the edge from h1 into the output
    assert model.element("d_h1_d_w1") == "w1" and model.element("d_L_d_h1") == "h1"
    assert model.element("y_true") == "L" and model.element("learn_rate") is None
    assert model.grad_name("o1") == "d_L_d_ypred" and model.grad_name("w1") == "d_L_d_w1"
    dbg.goto(25)
    scene = model.scene(dbg)
    assert scene.writes == {"w1"} and scene.reads == {"o1", "w5"}
    drawn = "\n".join(t.plain for t in draw(model, scene, 74, 14))
    assert "∂w1 +0.04356" in drawn and "L 0.256351" in drawn
    assert draw(model, scene, 30, 6) is None  # too small: the heat map instead
    heat = "\n".join(t.plain for t in heatmap(model, scene, 60, 10))
    assert "layer 1 sigmoid (2)" in heat and "◆" in heat and "L 0.2564" in heat


def drawings(name: str, width: int, height: int) -> list[str | None]:
    """The network drawing at every op of the first sample (None: the heat map)."""
    dbg = nnstep.Debugger(nnstep.load_scenario(name))
    model = NetworkModel(dbg)
    out = []
    for t in range(dbg.op_count + 1):
        dbg.goto(t)
        got = draw(model, model.scene(dbg), width, height)
        out.append(None if got is None else "\n".join(line.plain for line in got))
    return out


def test_drawing_keeps_one_layout_through_a_sample():
    # the network pane at 120x36 is 74x15: relu-softmax's backward ∂ labels used to
    # need 77 columns, so the pane showed the heat map for part of the sample
    shown = drawings("relu-softmax", 74, 15)
    assert all(d is not None and "hike softmax" in d for d in shown)
    # where the activations fit beside the names they stay there (120x36 and 80x24)
    for width, height in ((74, 15), (78, 8)):
        for name in ("note-network", "feed-forward"):
            shown = drawings(name, width, height)
            assert all(d is not None and "h1 σ" in d and "o1 σ" in d for d in shown), (name, width)


def test_graph_view_lists_formulas_with_values_and_gradients():
    dbg = nnstep.Debugger(nnstep.load_scenario("circuit"))
    model = NetworkModel(dbg)
    assert model.form == "graph" and model.loss == "f"
    dbg.goto(dbg.program.by_name["d_f_d_x"].index + 1)
    text = "\n".join(t.plain for t in graph_view(model, model.scene(dbg), 80, 12))
    assert "q = x + y" in text and "= 3" in text and "∂ -4" in text and "f = q * z" in text


def test_status_text_fits_the_width():
    dbg = note()
    dbg.goto(25)
    for width in (120, 97, 80):
        assert status_text(dbg, width, "breakpoint at d_L_d_w1").cell_len <= width
    assert status_text(dbg, 60).cell_len <= 60
    assert "The note's 2-2-1 network" in status_text(dbg, 200).plain
    assert "sample 1/4 Alice" in status_text(dbg, 200).plain and "op 25/40 d_L_d_w1" in status_text(dbg, 200).plain
    assert "│ L 0.2564" in status_text(dbg, 200).plain


def test_status_text_labels_the_loss_by_its_name():
    dbg = nnstep.Debugger(nnstep.load_scenario("circuit"))
    dbg.goto(dbg.program.by_name["f"].index + 1)
    for width in (200, 80, 50):
        text = status_text(dbg, width).plain
        assert text.endswith("f -12") and "L " not in text


def test_status_text_cuts_the_scenario_name_before_dropping_it():
    dbg = note()
    dbg.goto(27)  # d_L_d_b1
    long, short_ = "breakpoint at d_L_d_b1", "● d_L_d_b1"
    assert status_text(dbg, 200, long, short_).plain.startswith("The note's 2-2-1 network │ epoch 1/1000")
    assert status_text(dbg, 200, long, short_).plain.endswith("│ breakpoint at d_L_d_b1")
    # 80 columns: what the status text gets beside "no epoch done", then beside a sparkline
    for width in (62, 55):
        text = status_text(dbg, width, long, short_).plain
        assert len(text) <= width
        name = text.split(" · ")[0]
        assert name.endswith("…") and "The note's 2-2-1 network".startswith(name[:-1])
        assert text.endswith("L 0.2564 · ● d_L_d_b1") and "ep 1/1000" in text and "Alice" in text
    # without a message the phase stays
    assert "backward" in status_text(dbg, 62).plain
    # only where not even a few letters fit does the name go
    assert status_text(dbg, 45, long, short_).plain == "ep 1/1000 · Alice 1/4 · L 0.2564 · ● d_L_d_b1"
    assert status_text(dbg, 30, long, short_).cell_len == 30


def test_loss_history_is_thinned_to_the_sparkline():
    dbg = note()
    dbg.goto(3 * 160)
    assert loss_history(dbg) == [dbg.epoch_loss(e) for e in range(3)]
    dbg.run_to_end()
    thinned = loss_history(dbg)
    assert len(thinned) == SPARK_POINTS and thinned[0] == dbg.epoch_loss(0) and thinned[-1] == dbg.epoch_loss(999)


def test_goto_parses_numbers_and_names():
    dbg = note()
    assert parse_position(dbg, "2", "bob", "d_L_d_w1") == (1, 1, 24)
    assert parse_position(dbg, "", "", "") == (0, 0, 0)
    assert parse_position(dbg, "1000", "4", "40") == (999, 3, 39)
    for bad in (("0", "1", "1"), ("1", "Eve", "1"), ("1", "1", "nope"), ("x", "1", "1")):
        with pytest.raises(ValueError):
            parse_position(dbg, *bad)


def test_formulas_are_unicode_whatever_sympys_flag_and_other_threads_do():
    sp = pytest.importorskip("sympy")
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    from nnstep.symbolic import Symbolic, pretty

    renderer = _Renderer(Symbolic(note().program))
    x, y = sp.symbols("sum_h1 y_true")
    expr = (y - 1 / (1 + sp.exp(-x))) ** 2 / 2 + sp.sqrt(x) * y
    stop = threading.Event()

    def other() -> None:  # nnstep.symbolic.pretty switches the same global flag
        while not stop.is_set():
            pretty(expr)

    previous, interval = pretty_use_unicode(False), sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so an unguarded switch shows
    thread = threading.Thread(target=other)
    thread.start()
    try:
        for _ in range(200):
            text = "\n".join(renderer.form(expr).lines)
            assert "⎛" in text and "⋅" in text and "─" in text, text
            assert "|" not in text and "*" not in text and "---" not in text, text
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
        pretty_use_unicode(previous)
    assert renderer.form(expr).width > 0


def test_palette_page_keys_on_a_terminal_too_small_for_its_list():
    """Textual's option list raises KeyError moving a page with no rows on screen; the palette skips it."""
    from nnstep.tui import NNStepApp
    from nnstep.tui.screens.palette import NNStepPalette

    async def go():
        app = NNStepApp()
        async with app.run_test(size=(20, 8)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert isinstance(app.screen, NNStepPalette)
            await pilot.press("pagedown", "pageup", "pagedown")
            await pilot.pause()
            assert app.is_running and isinstance(app.screen, NNStepPalette)

    asyncio.run(go())


def test_per_program_values_are_shared_by_equal_programs_and_bounded_by_ops():
    from nnstep.program import PerProgram
    from nnstep.symbolic import shared_symbolic
    from nnstep.tui.formulas import shared_renderings

    def program(name: str):
        return nnstep.Debugger(nnstep.load_scenario(name)).program

    note_program, xor, iris = program("note-network"), program("xor"), program("iris")
    # the formula pane's renderings and the derivations: one per equal program
    assert shared_renderings(program("note-network"))[0] is shared_renderings(note_program)[0]
    assert shared_symbolic(program("note-network")) is shared_symbolic(note_program)
    assert shared_symbolic(xor) is not shared_symbolic(note_program)
    made = PerProgram(lambda p: object(), max_ops=len(iris.ops) + len(xor.ops))
    first = made(note_program)
    assert made(program("note-network")) is first
    made(xor)
    made(iris)  # over the bound: the note's network, the least recently used, goes
    assert len(made) == 2 and made(xor) is not None and len(made) == 2
    assert made(note_program) is not first
    made.max_ops = 1
    made(iris)  # however big, the one asked for is kept
    assert len(made) == 1


def test_a_rows_own_style_is_drawn_with_or_without_spans():
    # Rich's Text.render leaves out a Text's own style when it has no spans: the panes'
    # headings (Text(title, style=...)) came out plain
    from rich.console import Console
    from rich.style import Style
    from rich.text import Text

    from nnstep.tui.components.strips import text_strip

    console, base = Console(), Style(color="white", bgcolor="black")
    plain = text_strip(Text("── forward ", style="bold red"), console, base, 14)
    spanned = text_strip(Text.assemble(("x ", "italic"), "y", style="bold red"), console, base, 6)
    assert plain.text == "── forward    " and plain.cell_length == 14
    (first, *rest) = list(plain)
    assert first.style == base + Style.parse("bold red") and all(s.style == base for s in rest)
    assert [s.style.bold for s in spanned][:2] == [True, True] and spanned.text == "x y   "
    assert list(text_strip(Text("abcdef"), console, base, 3, left=2))[0].text == "cde"


def test_the_panes_headings_are_drawn_in_their_style():
    from nnstep.tui.app import NNStepApp
    from nnstep.tui.components.program import ProgramView
    from nnstep.tui.components.values import ValuesView
    from nnstep.tui.testing import settle

    async def go() -> None:
        app = NNStepApp("note-network")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(app, pilot)
            for pane, name in ((ProgramView, "program--heading"), (ValuesView, "values--heading")):
                view = app.query_one(pane)
                want = view.get_component_rich_style(name, partial=True)
                first = list(view.render_line(0))[0]
                assert first.text.startswith("── ") and want.bold and first.style.bold
                assert first.style.color == want.color, (pane.__name__, first.style, want)

    asyncio.run(go())


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_row_is_cut_from_its_spans_as_rich_renders_it(data):
    # text_strip cuts spans that do not overlap straight from the text: the same segments,
    # text and styles, as Rich's own Text.render (which it still uses for overlaps)
    from rich.console import Console
    from rich.segment import Segment
    from rich.style import Style
    from rich.text import Span, Text
    from textual.strip import Strip

    from nnstep.tui.components.strips import text_strip

    styles = st.sampled_from(["", "bold", "dim italic", "red on blue", "no-such-style", Style(color="green", underline=True),
                              Style(bgcolor="yellow"), Style()])
    plain = data.draw(st.text(st.sampled_from("ab ─σ∂⋅xy"), max_size=30))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(plain)), max_size=12)))
    spans = [Span(a, b, data.draw(styles)) for a, b in zip(cuts[::2], cuts[1::2])]
    own = data.draw(st.sampled_from(["", "bold red", Style(color="cyan")]))
    text = Text(plain, style=own, spans=spans)
    console, base = Console(), Style(color="white", bgcolor="black")
    width, left = data.draw(st.integers(1, 40)), data.draw(st.integers(0, 5))
    got = text_strip(text, console, base, width, left)
    # what Rich renders, over the base: the own style in every segment (spans or not)
    ownstyle = console.get_style(own) if own else Style()
    rich = [Segment(s.text, base + (s.style or ownstyle)) for s in text.render(console) if s.text] if spans else (
        [Segment(plain, base + ownstyle)] if plain else [])
    want = Strip(rich).crop_extend(left, left + width, base)
    assert got.text == want.text and got.cell_length == width
    cells = lambda strip: [(ch, seg.style) for seg in strip for ch in seg.text]  # noqa: E731
    assert cells(got) == cells(want)
