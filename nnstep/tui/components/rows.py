"""A scrolling list of one-line rows drawn with Textual's line API, so a program
of thousands of ops costs only the rows on screen."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Offset, Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .strips import text_key, text_strip

#: The scroll keys of a pane that scrolls its rows (the formula and values panes).
SCROLL_BINDINGS = [
    Binding("up,k", "scroll_up", "scroll up", show=False),
    Binding("down,j", "scroll_down", "scroll down", show=False),
    Binding("pageup", "page_up", "page up", show=False),
    Binding("pagedown", "page_down", "page down", show=False),
    Binding("home", "scroll_home", "top", show=False),
    Binding("end", "scroll_end", "bottom", show=False),
]


class RowList(ScrollView, inherit_bindings=False):
    """Rows rendered on demand by :meth:`row_text`; subclasses fill :attr:`rows`."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    RowList { overflow-x: hidden; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.rows: list[tuple[str, object]] = []
        self.virtual_width = 0
        self._painted: dict[int, tuple] = {}  # screen row -> what render_line drew there last
        self._in_pass = False
        self._pass_values: tuple[int, Offset, tuple, Style] | None = None

    def set_rows(self, rows: list[tuple[str, object]], width: int = 0) -> None:
        """New rows; ``width`` > 0 makes the rows scroll sideways up to that width."""
        self.rows = rows
        self.virtual_width = width
        self.virtual_size = Size(max(width, 0), len(rows))
        self.refresh()

    def row_text(self, index: int, width: int) -> Text:  # pragma: no cover - abstract
        raise NotImplementedError

    # the keys scroll at once: an animation costs a frame per step over a slow link, and
    # a test that reads the pane right after the key sees where it went
    def action_scroll_home(self) -> None:
        self.scroll_home(animate=False, x_axis=self.scroll_y == 0)

    def action_scroll_end(self) -> None:
        self.scroll_end(animate=False, x_axis=self.scroll_y == self.is_vertical_scroll_end)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def row_at(self, y: int, top: int | None = None) -> int:
        """The row shown on screen line ``y`` when the pane is scrolled ``top`` rows down
        (None: as it is now); a subclass may pin rows at the top."""
        return y + (round(self.scroll_offset.y) if top is None else top)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._in_pass = True  # the rows this pass draws share what _pass reads (once)
        try:
            return super().render_lines(crop)
        finally:
            self._in_pass = False
            self._pass_values = None

    def _pass(self) -> tuple[int, Offset, tuple, Style]:
        """The content's width, the scroll offset, :meth:`looks` and the base style: read
        once per pass of :meth:`render_lines` (each read is computed), else each time."""
        values = self._pass_values
        if values is None:
            values = (self.scrollable_content_region.width, self.scroll_offset, self.looks(),
                      self.visual_style.rich_style)
            if self._in_pass:
                self._pass_values = values
        return values

    def render_line(self, y: int) -> Strip:
        width, (x, top), looks, base = self._pass()
        index = self.row_at(y, top)
        if not 0 <= index < len(self.rows) or width <= 0:
            self._painted[y] = None  # blank, as refresh_rows writes a row past the end
            return Strip.blank(width, base)
        text = self.row_text(index, max(width, self.virtual_width))
        self._painted[y] = self._signature(index, width, x, looks, text)
        return text_strip(text, self.app.console, base, width, x if self.virtual_width else 0)

    def row_key(self, index: int, width: int) -> tuple | None:
        """Everything row ``index`` is drawn from at ``width`` (its state and values; the
        pane's focus, theme and zoom are :meth:`looks`), when that is cheaper to gather
        than drawing the row; None: the row is drawn and its text compared."""
        return None

    def looks(self) -> tuple:
        """What every row's styles depend on: the pane's focus, the theme, the zoom."""
        return (self.has_focus, self.app.theme, self.is_maximized)

    def _signature(self, index: int, width: int, x: int, looks: tuple, text: Text | None = None) -> tuple:
        """What row ``index`` looks like at ``width`` scrolled ``x`` columns sideways."""
        key = self.row_key(index, width)
        if key is not None:
            return (index, width, x, looks, key)
        if text is None:
            text = self.row_text(index, max(width, self.virtual_width))
        return (index, width, x, looks, text_key(text))

    def refresh_rows(self) -> None:
        """Repaint only the rows on screen whose text or styles changed since they were
        drawn (a scroll repaints the whole pane by itself)."""
        width, height = self.scrollable_content_region.size
        if width <= 0 or not self._painted:
            self.refresh()
            return
        x, top = self.scroll_offset  # read once: each read is computed
        looks = self.looks()
        changed = []
        for y in range(height):
            index = self.row_at(y, top)
            now = self._signature(index, width, x, looks) if 0 <= index < len(self.rows) else None
            if self._painted.get(y) != now:
                changed.append(Region(0, y, width, 1))
        if changed:
            self.refresh(*changed)

    def keep_row_in_view(self, index: int) -> None:
        """Scroll so that row ``index`` is at least a quarter of the pane from its top and
        bottom edges, in steps of a page less the margins: the scroll position depends
        on the row alone (stepping back shows the screen as it was) and changes only
        every few rows, so most steps move the marker, not the rows, and repaint two
        rows rather than the pane."""
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        margin = height // 4
        step = max(1, height - 2 * margin)
        top = max(0, min(round(self.max_scroll_y), (index - margin) // step * step))
        if top != round(self.scroll_offset.y):
            self.scroll_to(y=top, animate=False, immediate=True)

    def scroll_row_to_center(self, index: int) -> None:
        height = self.scrollable_content_region.height
        self.scroll_to(y=max(0, index - height // 2), animate=False, immediate=True)

    def scroll_row_into_view(self, index: int) -> None:
        height = self.scrollable_content_region.height
        top = round(self.scroll_offset.y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def text_lines(self, width: int | None = None) -> list[str]:
        """Every row as plain text (for tests and comparisons)."""
        width = width or max(20, self.scrollable_content_region.width)
        return [self.row_text(i, width).plain.rstrip() for i in range(len(self.rows))]

    def styled_lines(self, width: int | None = None) -> list[str]:
        """Every row as Rich markup, styles included."""
        width = width or max(20, self.scrollable_content_region.width)
        return [self.row_text(i, width).markup for i in range(len(self.rows))]


def style_of(widget: ScrollView, name: str) -> Style:
    """A component class's style, looked up once per focus state and theme (the lookup
    is slow enough to count when every row of a pane asks for it on every step)."""
    key = (name, widget.has_focus, widget.app.theme)
    cache: dict = widget.__dict__.setdefault("_component_styles", {})
    style = cache.get(key)
    if style is None:
        style = cache[key] = widget.get_component_rich_style(name, partial=True)
    return style
