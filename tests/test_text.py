"""nnstep.text: what file text looks like on its way to a terminal, a CSV cell or Markdown."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from nnstep.text import _UNSAFE, csv_cell, is_visible, markdown_cell, visible


def test_escape_sequences_become_visible():
    osc52 = "Alice\x1b]52;c;cm0gLXJmIH4=\x07"
    shown = visible(osc52)
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown == "Alice\\x1b]52;c;cm0gLXJmIH4=\\x07"
    assert visible("a\u202eb\x9bc\x7f") == "a\\u202eb\\x9bc\\x7f"
    assert visible("two\nlines\ttab") == "two\\nlines\\ttab"
    assert visible("two\nlines\x1b", keep_newlines=True) == "two\nlines\\x1b"
    assert visible("plain w1 σ ŷ") == "plain w1 σ ŷ" and is_visible("plain w1 σ ŷ")


def test_only_control_and_format_characters_are_escaped():
    for cp in range(0x10000):
        ch = chr(cp)
        if _UNSAFE.match(ch):
            assert unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cn"}, hex(cp)
    for cp in list(range(0x20)) + list(range(0x7F, 0xA0)) + [0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
                                                            0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F]:
        assert not is_visible(chr(cp)), hex(cp)


@given(st.text())
def test_visible_output_has_no_control_characters(s):
    out = visible(s)
    assert not any(unicodedata.category(c) == "Cc" for c in out)
    assert not _UNSAFE.search(out)
    out.encode("utf-8")  # no lone surrogates


def test_csv_cells_never_start_a_formula():
    assert not csv_cell("\tx").startswith("\t")
    for bad in ("=HYPERLINK(\"x\")", "+cmd", "-2+3", "@SUM(A1)"):
        assert csv_cell(bad).startswith("'"), bad
    assert csv_cell("-0.25") == "-0.25" and csv_cell("1e-3") == "1e-3" and csv_cell("Bob") == "Bob"


def test_markdown_cells_cannot_break_a_table_or_carry_html():
    cell = markdown_cell("a|b<script>x</script>\n*c*")
    assert "|" not in cell.replace("\\|", "")
    assert "<" not in cell.replace("\\<", "")
    assert "\n" not in cell and "*c*" not in cell
