"""The comparison as text: the report ``nnstep compare`` prints."""

from __future__ import annotations

from .results import CompareResult


def format_text(r: CompareResult) -> str:
    out: list[str] = []
    d = r.first_difference
    if d is not None:
        where = f"{r.program}:{d.line}" if d.line is not None else r.program
        out.append(f"{where}: {d.code}" if d.code else where)
        what = "never updated" if d.missing_update else "first difference"
        out.append(f"  {what}: {d.name} in epoch {d.epoch}, sample {d.sample} ({d.sample_name})")
        out.append(f"  yours:     {d.yours!r}")
        out.append(f"  expected:  {d.expected!r}")
        out.append(f"  nnstep:    {d.nnstep_code}")
        if d.formula:
            out.append(f"             = {d.formula}")
        if d.hint:
            out.append(f"  hint:      {d.hint}")
        out.append(f"{r.compared} values agreed before it.")
    else:
        out.append(f"all {r.compared} values agree over {_samples(r.samples, r.sample_count)}.")
        if r.ended_early:
            out.append("your program ended before the samples asked for.")
    if r.missing:
        out.append("not found in your program: " + ", ".join(r.missing))
    out.append(f"data: {r.data_source}; learning rate {r.learn_rate!r}")
    if r.output_lines:
        out.append(f"(your program printed {r.output_lines} "
                   f"line{'s' if r.output_lines != 1 else ''}; not shown)")
    return "\n".join(out) + "\n"


def _samples(n: int, per_epoch: int) -> str:
    """``4 samples (1 epoch)``, ``6 samples (1 epoch and 2 samples)``."""
    text = f"{n} sample{'s' if n != 1 else ''}"
    epochs, rest = divmod(n, per_epoch)
    if not epochs:
        return text
    more = f" and {rest} sample{'s' if rest != 1 else ''}" if rest else ""
    return f"{text} ({epochs} epoch{'s' if epochs != 1 else ''}{more})"
