"""The command palette, as Textual makes it, with guards for what fast keys can do to it.

The TUI fuzz (thousands of keys, resizes down to 20x8) found three ways Textual 8's
palette can raise and end the app:

- its option list moves a page with a table of line positions that it only fills while
  it has rows on screen, so ``pagedown``/``pageup`` on a tiny terminal raise ``KeyError``:
  without room there is no page to move, so the move is skipped;
- the worker that gathers matching commands looks its list up after the palette may have
  been closed (``NoMatches``): a palette that is gone has nothing to show;
- ``enter`` queued behind a selection dismisses an already dismissed palette
  (``ScreenStackError``): only the palette on top of the screen stack answers."""

from __future__ import annotations

from textual import work
from textual.command import CommandList, CommandPalette
from textual.css.query import NoMatches


class NNStepPalette(CommandPalette):
    def _action_command_list(self, action: str) -> None:
        lists = self.query(CommandList)  # none yet while the palette is being put together
        if action in ("page_up", "page_down") and (not lists or not lists.first().scrollable_content_region):
            return
        super()._action_command_list(action)

    @work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        try:
            await CommandPalette._gather_commands.__wrapped__(self, search_value)
        except NoMatches:
            return

    def _select_or_command(self, *args, **kwargs) -> None:
        if self.app.screen is not self:
            return
        super()._select_or_command(*args, **kwargs)
