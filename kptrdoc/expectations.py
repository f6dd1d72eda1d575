"""The annotation contract of ``kptrdoc.h``: one reader, one resolver, one check.

Every annotation a sample puts on a program (``__success``, ``__failure``,
``__failure_on``, ``__msg``, ``__msg_on``, ``__description``, ``__run``) is a
``kptrdoc:``-prefixed ``btf_decl_tag`` on the program's FUNC, and so are
``__run_check`` and ``__run_set`` (the values a run must leave and is given).
This module is the one place that gives them meaning, for the pytest plugin,
the object model, the loader, the kernel matrix and the site alike:

- :func:`parse_tags` reads the tags into an :class:`Expectation`;
- :meth:`Expectation.resolve` says what they ask of one kernel
  (:class:`Resolved`: ``__failure_on`` and ``__msg_on`` applied);
- :func:`outcome` turns what the loader saw into one :class:`Outcome`;
- :func:`check` compares the two and says how it counts (:class:`Status`).

How each outcome counts:

=====================  =====================================================
outcome                counts
=====================  =====================================================
loaded                 meets ``__success`` (without ``__run``)
ran                    meets ``__success`` with ``__run``: it ran, and every
                       ``__run_check`` read the value it names
ran, wrong value       fails: it ran, but a ``__run_check`` global held another
                       value (the detail names the global, expected and got)
did not run            fails a ``__run``
rejected               meets ``__failure`` when every ``__msg`` is in the log
missing feature        libbpf refused before the verifier: the kernel lacks a
                       kfunc, helper, map or program type. Not applicable
                       below the floor; a failure at or above it
refused by policy      EPERM and an empty log as root: a program type
                       (fentry/lsm on some hosts) or a map the host's
                       policy refuses (an arena on some builds). Not
                       verified here, never a pass
attach refused         loaded, but the kernel cannot attach it: not run here
not applicable         the kernel is below the sample's floor
=====================  =====================================================

A flipped verdict always fails. A message that is not in the log fails on a
kernel build that the committed record of the matrix holds; on any other
build it is *drift*: reported, and failing only in strict mode.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from kptrdoc.kernel_range import KernelRange, RangeError, split_ranged_tag

if TYPE_CHECKING:
    from kptrdoc.objects.model import BpfObject

TAG_PREFIX = "kptrdoc:"

# --------------------------------------------------------------------------
# What a run knows: the values of __run_check and __run_set (kptrdoc.h)
# --------------------------------------------------------------------------

RUN_VALUES: Mapping[str, str] = MappingProxyType({
    "pid": "the thread id of the task the event happened in",
    "tgid": "the process id of the task the event happened in",
    "ppid": "the parent of that process",
    "child_pid": "the pid of the child the fork created",
    "fd": "the file descriptor passed to close()",
    "nr": "the number of the system call on this architecture",
    **{f"arg{n}": f"argument {n} of the system call or function" for n in range(6)},
    "retval": "the return value of the program (test_run) or of the function (uprobe)",
    "pkt_len": "the length of the packet given to the program, in bytes",
    "nonce": "a random number drawn for each run: a marker for text the program prints",
})  # fmt: skip
"""The names a ``__run_check``/``__run_set`` VALUE may take (besides an integer literal)."""

_LITERAL_RE = re.compile(r"(?P<sign>-?)(?:0[xX](?P<hex>[0-9a-fA-F]+)|(?P<dec>[0-9]+))")
WRITABLE_SECTIONS = ("bss", "data")
"""Kinds of data section a run may read back or write: not ``.rodata`` (frozen)."""


def literal_value(text: str) -> int | None:
    """The integer a VALUE spells (``42``, ``-1``, ``0x2a``), or ``None`` for a name."""
    match = _LITERAL_RE.fullmatch(text)
    if match is None:
        return None
    number = int(match["hex"], 16) if match["hex"] else int(match["dec"], 10)
    return -number if match["sign"] else number


@dataclass(frozen=True)
class ValueSpec:
    """One ``__run_check("GLOBAL", "VALUE")`` or ``__run_set("GLOBAL", "VALUE")``."""

    variable: str
    value: str
    """A name of :data:`RUN_VALUES` or an integer literal."""

    def describe(self, macro: str) -> str:
        return f'{macro}("{self.variable}", "{self.value}")'


@dataclass(frozen=True)
class Variable:
    """A global of the object, as far as a run needs it (from the object model)."""

    name: str
    section: str
    """The ELF section, e.g. ``.bss``."""
    kind: str
    """``bss``, ``data``, ``rodata``, ``kconfig`` or ``ksyms``."""
    size: int
    type: str
    """As C, e.g. ``unsigned int``."""
    integer: bool
    """An integer, enum, bool or char of 1, 2, 4 or 8 bytes (what a run can compare)."""


def object_variables(obj: BpfObject) -> dict[str, Variable]:
    """Every global of ``obj`` by name, for :meth:`Expectation.problem`."""
    from kptrdoc.btf.types import Enum, Enum64, Int

    spec = obj.btf
    out: dict[str, Variable] = {}
    for section in obj.data_sections:
        for var in section.variables:
            integer = False
            if spec is not None and var.type_id is not None:
                base = spec.type(spec.strip(var.type_id))
                integer = isinstance(base, Int | Enum | Enum64) and var.size in (1, 2, 4, 8)
            out[var.name] = Variable(var.name, section.name, section.kind, var.size, var.type,
                                     integer)  # fmt: skip
    return out


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
    checks: tuple[ValueSpec, ...] = ()
    """Each ``__run_check``: a global user space reads back after the run."""
    inputs: tuple[ValueSpec, ...] = ()
    """Each ``__run_set``: a global user space writes before the event."""
    printed: tuple[str, ...] = ()
    """Each ``__run_printed``: text the run must leave in the kernel's trace buffer, with
    ``{name}`` standing for a run value (``{nonce}``)."""

    def problem(self, variables: Mapping[str, Variable] | None = None) -> str:
        """Why these annotations cannot be checked, or "" when they can.

        ``variables`` (:func:`object_variables`) are the object's globals: with
        them, each ``__run_check``/``__run_set`` must name an integer global of
        ``.bss`` or ``.data``; without them, only the values are checked.
        """
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
        return self._printed_problem() or self._values_problem(variables)

    def _printed_problem(self) -> str:
        from kptrdoc.loader import trigger_values

        for text in self.printed:
            said = f'__run_printed("{text}")'
            if not text:
                return f"{said}: needs the text the program prints"
            if self.run is None:
                return f"{said} needs __run(...)"
            before, after = trigger_values(self.run)
            for name in PLACEHOLDER_RE.findall(text):
                if name not in RUN_VALUES:
                    return f"{said}: unknown value {{{name}}} (known: {', '.join(RUN_VALUES)})"
                if name not in before + after:
                    return f"{said}: __run({self.run!r}) does not record {name!r}"
        return ""

    def _values_problem(self, variables: Mapping[str, Variable] | None) -> str:
        from kptrdoc.loader import trigger_values

        for macro, specs in (("__run_check", self.checks), ("__run_set", self.inputs)):
            for spec in specs:
                said = spec.describe(macro)
                if not spec.variable or not spec.value:
                    return f"{said}: needs a global variable and a value"
                if self.run is None:
                    return f"{said} needs __run(...)"
                if literal_value(spec.value) is None:
                    if spec.value not in RUN_VALUES:
                        names = ", ".join(RUN_VALUES)
                        return f"{said}: unknown value {spec.value!r} (known: {names}, integers)"
                    before, after = trigger_values(self.run)
                    if spec.value not in before + after:
                        return (f"{said}: __run({self.run!r}) does not record {spec.value!r} "
                                f"(it records {', '.join(before + after)})")  # fmt: skip
                    if macro == "__run_set" and spec.value not in before:
                        return f"{said}: {spec.value!r} is known only after the event"
                if variables is None:
                    continue
                var = variables.get(spec.variable)
                if var is None:
                    known = [v.name for v in variables.values() if v.kind in WRITABLE_SECTIONS]
                    return (f"{said}: no global variable {spec.variable!r} in the object"
                            f" (globals in .bss/.data: {', '.join(known) or 'none'})")  # fmt: skip
                if var.kind not in WRITABLE_SECTIONS:
                    return (f"{said}: {spec.variable!r} is in {var.section}, which the program "
                            "cannot write: use a global in .bss or .data")  # fmt: skip
                if not var.integer:
                    return f"{said}: {spec.variable!r} is {var.type}, not an integer (1 to 8 bytes)"
        return ""

    @property
    def verdict(self) -> str | None:
        """``success`` or ``failure`` (``__failure_on`` counts as a mistake), ``None``
        when neither or more than one was given."""
        failure = self.failure or bool(self.failure_ranges)
        if self.success == failure:
            return None
        return "failure" if failure else "success"

    @property
    def conflicting(self) -> bool:
        return sum((self.success, self.failure, bool(self.failure_ranges))) > 1

    def resolve(self, version: tuple[int, ...]) -> Resolved:
        """What is asked of a kernel of upstream ``version``: ``__failure_on``
        resolved to a failure or a success, and the ``__msg_on`` of the ranges
        holding ``version`` in place of the plain ``__msg`` (when there are any).
        Call only when :meth:`problem` is empty."""
        failure = self.failure
        if self.failure_ranges:
            failure = any(_holds(r, version) for r in self.failure_ranges)
        specific = tuple(t for r, t in self.kernel_msgs if _holds(r, version))
        msgs = (specific or self.msgs) if failure else ()
        return Resolved(
            verdict="failure" if failure else "success",
            msgs=msgs,
            run=None if failure else self.run,
            ranged=bool(self.failure_ranges),
            checks=() if failure else self.checks,
            inputs=() if failure else self.inputs,
            printed=() if failure else self.printed,
        )

    def describe(self, version: tuple[int, ...]) -> str:
        """The annotations as they apply on a kernel of ``version``, in words."""
        ranged = "".join(f'__failure_on("{r}") ' for r in self.failure_ranges)
        if ranged:
            ranged = ranged.rstrip() + " on this kernel means "
        return ranged + self.resolve(version).describe()


def _holds(spec: str, version: tuple[int, ...]) -> bool:
    try:
        return KernelRange.parse(spec).contains(version)
    except RangeError:
        return False


@dataclass(frozen=True)
class Resolved:
    """The annotations of one program as they apply to one kernel."""

    verdict: str
    """``success`` or ``failure``."""
    msgs: tuple[str, ...] = ()
    run: str | None = None
    ranged: bool = False
    """Whether it came from ``__failure_on`` (a kernel outside the range must load it)."""
    checks: tuple[ValueSpec, ...] = ()
    inputs: tuple[ValueSpec, ...] = ()
    printed: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.verdict == "success":
            text = "__success (the verifier accepts it)"
            if self.run:
                text += f", __run({self.run!r}) (it runs when triggered)"
            for spec in self.inputs:
                text += f", {spec.describe('__run_set')}"
            for spec in self.checks:
                text += f", {spec.describe('__run_check')} (user space reads it back)"
            for printed in self.printed:
                text += f', __run_printed("{printed}") (in what it printed)'
            return text
        msgs = "".join(f' __msg("{m}")' for m in self.msgs)
        return f"__failure{msgs} (the verifier rejects it" + (
            ", the log says so in this order)" if self.msgs else ")"
        )


class Outcome(enum.Enum):
    """What happened to one program on one kernel."""

    LOADED = "loaded"
    RAN = "ran"
    RAN_WRONG = "ran-wrong"
    """It ran, but a ``__run_check`` global held another value."""
    DID_NOT_RUN = "did-not-run"
    REJECTED = "rejected"
    MISSING_FEATURE = "missing-feature"
    REFUSED_BY_POLICY = "refused-by-policy"
    ATTACH_REFUSED = "attach-refused"
    NOT_APPLICABLE = "not-applicable"
    NO_VERDICT = "no-verdict"
    """The kernel did not boot or the loader failed: nothing is known."""

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def loaded(self) -> bool:
        return self in (Outcome.LOADED, Outcome.RAN, Outcome.RAN_WRONG, Outcome.DID_NOT_RUN,
                        Outcome.ATTACH_REFUSED)  # fmt: skip


_LABELS = {
    Outcome.LOADED: "loaded",
    Outcome.RAN: "loaded, attached and run",
    Outcome.RAN_WRONG: "ran, but user space read a wrong value",
    Outcome.DID_NOT_RUN: "loaded but did not run",
    Outcome.REJECTED: "rejected by the verifier",
    Outcome.MISSING_FEATURE: "refused before the verifier: the kernel lacks what it uses",
    Outcome.REFUSED_BY_POLICY: "refused by this kernel's policy (EPERM)",
    Outcome.ATTACH_REFUSED: "loaded, but this kernel refused to attach it",
    Outcome.NOT_APPLICABLE: "not applicable: below the sample's floor",
    Outcome.NO_VERDICT: "no verdict",
}

# the loader's verdict strings (kptrdoc.loader), as stored in results and the record
LOADER_LOADED = "loaded"
LOADER_REJECTED = "rejected"
LOADER_FAILED_BEFORE_VERIFIER = "failed-before-verifier"
LOADER_REFUSED_PROGRAM_TYPE = "refused-program-type"
_EPERM = (1, 13)  # EPERM, EACCES


def outcome(
    verdict: str,
    errno: int = 0,
    run_error: str = "",
    ran: bool | None = None,
    wrong: bool | str = False,
) -> Outcome:
    """The one outcome for what the loader reported.

    ``verdict`` is the loader's (``loaded``, ``rejected``, ...); ``errno`` the
    load's error; ``ran`` whether a ``__run`` program's run count went up
    (``None``: it was not asked to run), ``run_error`` why it could not run;
    ``wrong`` whether a ``__run_check`` read another value (:func:`wrong_values`
    of the run: its text, or just true).
    """
    if verdict == LOADER_LOADED:
        if ran is None and not run_error:
            return Outcome.LOADED
        if run_error.startswith("attach failed"):
            return Outcome.ATTACH_REFUSED
        if ran and not run_error:
            return Outcome.RAN_WRONG if wrong else Outcome.RAN
        return Outcome.DID_NOT_RUN
    if verdict == LOADER_REJECTED:
        return Outcome.REJECTED
    if verdict == LOADER_REFUSED_PROGRAM_TYPE:
        # EPERM with an empty log is a policy; EINVAL/EOPNOTSUPP: no such program type
        return Outcome.REFUSED_BY_POLICY if errno in _EPERM else Outcome.MISSING_FEATURE
    if verdict == LOADER_FAILED_BEFORE_VERIFIER:
        # a kernel without a map type or kfunc says EINVAL/ESRCH/E2BIG; EPERM to root is a
        # policy (a host that refuses arena maps), not a missing feature
        return Outcome.REFUSED_BY_POLICY if errno in _EPERM else Outcome.MISSING_FEATURE
    return Outcome.NO_VERDICT


class Status(enum.Enum):
    """How an outcome stands against the annotations on one kernel."""

    AS_EXPECTED = "as expected"
    DRIFT = "message drift"
    """Right verdict, a ``__msg`` not in the log, on a build the record has not seen."""
    MSG_DIFFERS = "message differs"
    """Right verdict, a ``__msg`` not in the log, on a recorded build."""
    FLIPPED = "verdict flipped"
    DID_NOT_RUN = "did not run"
    WRONG_VALUE = "wrong value"
    """It ran, but a ``__run_check`` global held another value than the one named."""
    MISSING_ABOVE_FLOOR = "refused before the verifier at or above the floor"
    UNVERIFIED = "not verified here"
    """Refused by policy, attach refused, or below the floor: counts neither way."""
    NO_VERDICT = "no verdict"

    @property
    def fails(self) -> bool:
        """Whether this status fails a check (drift only in strict mode)."""
        return self in (
            Status.MSG_DIFFERS, Status.FLIPPED, Status.DID_NOT_RUN, Status.WRONG_VALUE,
            Status.MISSING_ABOVE_FLOOR,
        )  # fmt: skip


@dataclass(frozen=True)
class Checked:
    status: Status
    detail: str = ""
    """What differs: the missing ``__msg``, the outcome against the verdict."""

    @property
    def ok(self) -> bool:
        return self.status is Status.AS_EXPECTED


def msgs_missing(log: str, msgs: tuple[str, ...] | list[str]) -> str | None:
    """The first message not found in ``log`` after the previous one's match, or ``None``."""
    position = 0
    for msg in msgs:
        found = log.find(msg, position)
        if found < 0:
            return msg
        position = found + len(msg)
    return None


def check(
    expect: Resolved,
    got: Outcome,
    log: str = "",
    *,
    recorded: bool,
    below_floor: bool = False,
    wrong: str = "",
) -> Checked:
    """How ``got`` (with its verifier ``log``) stands against ``expect``.

    ``recorded``: the kernel build is in the committed record, so a missing
    ``__msg`` fails there; elsewhere it is drift. ``below_floor``: the kernel is
    older than the sample's floor, where nothing counts against it. ``wrong``:
    what the run's ``__run_check`` read instead (:func:`wrong_values`), the
    detail of :attr:`Status.WRONG_VALUE`.
    """
    if got is Outcome.NO_VERDICT:
        return Checked(Status.NO_VERDICT, got.label)
    if got in (Outcome.REFUSED_BY_POLICY, Outcome.ATTACH_REFUSED, Outcome.NOT_APPLICABLE):
        return Checked(Status.UNVERIFIED, got.label)
    if got is Outcome.MISSING_FEATURE:
        if below_floor:
            return Checked(Status.UNVERIFIED, got.label)
        return Checked(Status.MISSING_ABOVE_FLOOR, got.label)
    if expect.verdict == "success":
        if got is Outcome.REJECTED:
            status = Status.UNVERIFIED if below_floor else Status.FLIPPED
            return Checked(status, "rejected by the verifier, expected to load")
        if got is Outcome.DID_NOT_RUN:
            return Checked(Status.DID_NOT_RUN, got.label)
        if got is Outcome.RAN_WRONG:
            return Checked(Status.WRONG_VALUE, wrong or got.label)
        if expect.run and got is not Outcome.RAN:
            return Checked(Status.DID_NOT_RUN, f"__run({expect.run!r}) was not run")
        return Checked(Status.AS_EXPECTED)
    if got is not Outcome.REJECTED:
        status = Status.UNVERIFIED if below_floor else Status.FLIPPED
        return Checked(status, "loaded, expected a rejection by the verifier")
    missing = msgs_missing(log, expect.msgs)
    if missing is None:
        return Checked(Status.AS_EXPECTED)
    if below_floor:
        return Checked(Status.UNVERIFIED, f'__msg("{missing}") is not in the log (below the floor)')
    status = Status.MSG_DIFFERS if recorded else Status.DRIFT
    return Checked(status, f'__msg("{missing}") is not in the verifier log (in order)')


def wrong_values(checks: Iterable[object]) -> str:
    """What the ``__run_check`` of a run read wrongly, one ``; ``-separated item per
    check, or "" when all held. ``checks`` are the loader's ``run.checks``:
    :class:`kptrdoc.loader.ValueCheck` values or their JSON (dicts)."""
    items = []
    for item in checks:
        get = item.get if isinstance(item, dict) else lambda k, _i=item: getattr(_i, k, None)
        if get("ok"):
            continue
        spec = ValueSpec(str(get("variable")), str(get("value")))
        said = spec.describe("__run_check")
        if get("error"):
            items.append(f"{said}: {get('error')}")
            continue
        expected, got = get("expected"), get("got")
        name = "" if literal_value(spec.value) is not None else f" ({spec.value})"
        items.append(f"{said}: user space read {spec.variable} = {got}, expected {expected}{name}")
    return "; ".join(items)


PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
"""``{name}`` in a ``__run_printed`` text: a run value."""


def printed_text(template: str, values: Mapping[str, int]) -> str | None:
    """A ``__run_printed`` text with its ``{name}`` placeholders filled in from the run's
    values; ``None`` when the run did not record one of them."""
    missing = [n for n in PLACEHOLDER_RE.findall(template) if n not in values]
    if missing:
        return None
    return PLACEHOLDER_RE.sub(lambda m: str(values[m.group(1)]), template)


def wrong_printed(printed: Iterable[object]) -> str:
    """The ``__run_printed`` texts a run did not print, ``; ``-separated,
    or "". ``printed`` are the loader's ``run.printed`` (:class:`kptrdoc.loader.PrintedCheck`
    values or their JSON)."""
    items = []
    for item in printed:
        get = item.get if isinstance(item, dict) else lambda k, _i=item: getattr(_i, k, None)
        if get("found"):
            continue
        said = f'__run_printed("{get("template")}")'
        items.append(f"{said}: {get('error') or 'not printed'}")
    return "; ".join(items)


def run_wrong(run: object) -> str:
    """Everything a run got wrong: its ``__run_check`` values and its ``__run_printed``
    texts (a :class:`kptrdoc.loader.RunResult` or its JSON)."""
    get = run.get if isinstance(run, dict) else lambda k, _r=run: getattr(_r, k, None)
    parts = [wrong_values(get("checks") or []), wrong_printed(get("printed") or [])]
    return "; ".join(p for p in parts if p)


def parse_tags(tags: list[str]) -> Expectation:
    success = failure = False
    msgs: list[str] = []
    runs: list[str] = []
    unknown: list[str] = []
    description = ""
    kernel_msgs: list[tuple[str, str]] = []
    failure_ranges: list[str] = []
    values: dict[str, list[ValueSpec]] = {"run_check": [], "run_set": []}
    printed: list[str] = []
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
        elif key in values and sep:
            variable, _, wanted = value.partition("=")
            values[key].append(ValueSpec(variable, wanted))
        elif key == "run_printed" and sep:
            printed.append(value)
        else:
            unknown.append(body)
    return Expectation(success, failure, tuple(msgs), description,
                       runs[0] if runs else None, tuple(unknown), tuple(runs),
                       tuple(kernel_msgs), tuple(failure_ranges),
                       tuple(values["run_check"]), tuple(values["run_set"]),
                       tuple(printed))  # fmt: skip
