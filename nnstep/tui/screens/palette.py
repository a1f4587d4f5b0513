"""The command palette, as Textual makes it, with one guard.

Textual 8's option list moves a page with a table of line positions that it only
fills while it has room on screen; on a terminal so small that the palette's list
gets no rows at all, ``pagedown``/``pageup`` raise ``KeyError`` (the fuzz test's
20x8 resizes found it).  Without room there is no page to move, so the move is
skipped."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette


class NNStepPalette(CommandPalette):
    def _action_command_list(self, action: str) -> None:
        lists = self.query(CommandList)  # none yet while the palette is being put together
        if action in ("page_up", "page_down") and (not lists or not lists.first().scrollable_content_region):
            return
        super()._action_command_list(action)
