"""The annotation contract of ``kptrdoc.h``, read back from BTF decl tags.

Every annotation a sample puts on a program (``__success``, ``__failure``,
``__failure_on``, ``__msg``, ``__msg_on``, ``__description``, ``__run``) is a
``kptrdoc:``-prefixed ``btf_decl_tag`` on the program's FUNC. This module is
the one reader of those tags: the pytest plugin, the object model, the
matrix and the site all go through :func:`parse_tags`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kptrdoc.kernel_range import KernelRange, RangeError, split_ranged_tag

TAG_PREFIX = "kptrdoc:"


@dataclass(frozen=True)
class Expectation:
    """What the ``kptrdoc.h`` annotations of one program ask for."""

    success: bool = False
    failure: bool = False
    msgs: tuple[str, ...] = ()
    description: str = ""
    run: str | None = None
    unknown: tuple[str, ...] = ()
    runs: tuple[str, ...] = field(default=())
    kernel_msgs: tuple[tuple[str, str], ...] = ()
    """``(RANGE, TEXT)`` of each ``__msg_on``, in source order."""
    failure_ranges: tuple[str, ...] = ()
    """The RANGE of each ``__failure_on``."""

    def problem(self) -> str:
        """Why these annotations cannot be checked, or "" when they can."""
        if self.unknown:
            return "unknown annotation(s): " + ", ".join(TAG_PREFIX + t for t in self.unknown)
        for spec in (*self.failure_ranges, *(r for r, _ in self.kernel_msgs)):
            try:
                KernelRange.parse(spec)
            except RangeError as exc:
                return str(exc)
        verdicts = [n for n, on in (("__success", self.success), ("__failure", self.failure),
                    ("__failure_on", bool(self.failure_ranges))) if on]  # fmt: skip
        if len(verdicts) > 1:
            return f"both {verdicts[0]} and {verdicts[1]}: say which one"
        if not verdicts:
            return "no __success or __failure annotation (or __failure_on): say what it must do"
        if self.msgs and self.success:
            return "__msg(...) needs __failure"
        if self.kernel_msgs and self.success:
            return "__msg_on(...) needs __failure or __failure_on"
        if self.runs and not self.success:
            return "__run(...) needs __success"
        if len(self.runs) > 1:
            return "more than one __run(...)"
        from kptrdoc.loader import run_triggers

        if self.run is not None and self.run not in run_triggers():
            return f"__run({self.run!r}): unknown trigger (known: {', '.join(run_triggers())})"
        return ""

    def on_kernel(self, version: tuple[int, ...]) -> Expectation:
        """What is expected on a kernel of upstream ``version``: ``__failure_on``
        resolved to ``__failure`` or ``__success``, the ``__msg_on`` of the ranges
        holding ``version`` in place of the plain ``__msg`` (when there are any).
        Call only when :meth:`problem` is empty."""
        failure = self.failure
        success = self.success
        if self.failure_ranges:
            failure = any(KernelRange.parse(r).contains(version) for r in self.failure_ranges)
            success = not failure
        specific = tuple(t for r, t in self.kernel_msgs if KernelRange.parse(r).contains(version))
        msgs = (specific or self.msgs) if failure else ()
        return Expectation(success, failure, msgs, self.description, self.run, self.unknown,
                           self.runs, self.kernel_msgs, self.failure_ranges)  # fmt: skip

    def describe(self) -> str:
        ranged = "".join(f'__failure_on("{r}") ' for r in self.failure_ranges)
        if ranged:
            ranged = ranged.rstrip() + " on this kernel means "
        return ranged + self._describe()

    def _describe(self) -> str:
        if self.success:
            text = "__success (the verifier accepts it)"
            if self.run:
                text += f", __run({self.run!r}) (it runs when triggered)"
            return text
        if self.failure:
            msgs = "".join(f' __msg("{m}")' for m in self.msgs)
            return f"__failure{msgs} (the verifier rejects it" + (
                ", the log says so in this order)" if self.msgs else ")"
            )
        return "nothing"


def parse_tags(tags: list[str]) -> Expectation:
    success = failure = False
    msgs: list[str] = []
    runs: list[str] = []
    unknown: list[str] = []
    description = ""
    kernel_msgs: list[tuple[str, str]] = []
    failure_ranges: list[str] = []
    for tag in tags:
        if not tag.startswith(TAG_PREFIX):
            continue
        body = tag[len(TAG_PREFIX) :]
        key, sep, value = body.partition("=")
        ranged = split_ranged_tag(body)
        if ranged is not None and ranged.text is not None:
            kernel_msgs.append((ranged.range, ranged.text))
        elif ranged is not None:
            failure_ranges.append(ranged.range)
        elif body == "success":
            success = True
        elif body == "failure":
            failure = True
        elif key == "msg" and sep:
            msgs.append(value)
        elif key == "description" and sep:
            description = value
        elif key == "run" and sep:
            runs.append(value)
        else:
            unknown.append(body)
    return Expectation(success, failure, tuple(msgs), description,
                       runs[0] if runs else None, tuple(unknown), tuple(runs),
                       tuple(kernel_msgs), tuple(failure_ranges))  # fmt: skip
