"""Number formatting shared by the panes (presentation only: no maths here)."""

from __future__ import annotations

import math


def num(x: float | None, digits: int = 6) -> str:
    """A value as the panes show it: ``-0.0921541``; ``·`` when not computed yet."""
    if x is None:
        return "·"
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


def fit(x: float | None, width: int, digits: int = 6, least: int = 1) -> str:
    """A value with as many significant digits (at most ``digits``) as fit ``width``,
    exponents written compactly (``-1.51e154``, ``3.2e-5``); never fewer than
    ``least`` digits, even where that is wider than ``width``."""
    if x is None:
        return "·"
    for d in range(digits, least - 1, -1):
        text = compact(num(x, d))
        if len(text) <= width:
            return text
    return compact(num(x, least))


def compact(text: str) -> str:
    """A number's exponent without ``+`` and leading zeros: ``1.5e+154`` → ``1.5e154``."""
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    sign = "-" if exponent.startswith("-") else ""
    return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"


def short(x: float | None, width: int = 7) -> str:
    """A value squeezed into ``width`` characters (for the network drawing)."""
    if x is None:
        return "·"
    for digits in range(4, 0, -1):
        text = num(x, digits)
        if len(text) <= width:
            return text
    return num(x, 1)[:width]


def signed(x: float | None, width: int = 7) -> str:
    """Like :func:`short`, with an explicit ``+`` on positive numbers."""
    text = short(x, width - 1 if x is not None and x >= 0 else width)
    return f"+{text}" if x is not None and x >= 0 and not text.startswith(("n", "i")) else text


def boxed(x: float | None, width: int) -> str:
    """A number for a formula with the numbers substituted: negative ones in
    parentheses, never wider than ``width``."""
    if x is None:
        return "?"
    for digits in range(6, 0, -1):
        text = num(x, digits)
        if text.startswith("-"):
            text = f"({text})"
        if len(text) <= width:
            return text
    return text[:width]
