"""Modal screens: help, open a scenario, breakpoints, go to, edit, watches; each a
:class:`~nnstep.tui.components.dialog.Dialog`."""
