"""Modal screens: help, open a scenario, breakpoints, go to."""
