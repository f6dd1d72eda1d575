"""__run_check and __run_set: read from BTF by the one reader, validated, and counted
by the one rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from runs_support import write_sample

from kptrdoc import loader
from kptrdoc.compile import compile_sample
from kptrdoc.expectations import (
    RUN_VALUES,
    Outcome,
    Status,
    ValueSpec,
    Variable,
    check,
    literal_value,
    object_variables,
    outcome,
    parse_tags,
    wrong_values,
)
from kptrdoc.objects import load_object

RUN = "kptrdoc:run=fork"
OK = "kptrdoc:success"


def _expect(*tags: str):
    return parse_tags([OK, *tags])


def test_the_macros_reach_btf_in_source_order(tmp_path: Path) -> None:
    obj = compile_sample(
        write_sample(
            tmp_path,
            "v.bpf.c",
            """
int target_tgid, seen, child;
SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("target_tgid", "tgid") __run_check("seen", "tgid")
__run_check("child", "child_pid") __run_check("seen", "0x2a")
int BPF_PROG(p, struct task_struct *task, u64 clone_flags) { return 0; }
""",
        )
    ).path
    expect = load_object(obj).program("p").expect
    assert expect.run == "fork"
    assert expect.inputs == (ValueSpec("target_tgid", "tgid"),)
    assert expect.checks == (ValueSpec("seen", "tgid"), ValueSpec("child", "child_pid"),
                             ValueSpec("seen", "0x2a"))  # fmt: skip
    assert expect.problem(object_variables(load_object(obj))) == ""
    # the loader reads the same tags through libbpf's copy of the BTF
    with loader._open(obj) as (handle, _):
        tags = loader._ObjectBtf(handle).function_tags("p")
    assert parse_tags(tags) == expect


def test_problems_are_named() -> None:
    no_run = parse_tags([OK, "kptrdoc:run_check=seen=tgid"])
    assert no_run.problem() == '__run_check("seen", "tgid") needs __run(...)'
    assert "needs __run" in parse_tags([OK, "kptrdoc:run_set=x=1"]).problem()
    unknown = _expect(RUN, "kptrdoc:run_check=seen=tigd").problem()
    assert unknown.startswith('__run_check("seen", "tigd"): unknown value \'tigd\' (known: pid,')
    not_recorded = _expect(RUN, "kptrdoc:run_check=seen=fd").problem()
    assert not_recorded == (
        "__run_check(\"seen\", \"fd\"): __run('fork') does not record 'fd' "
        "(it records pid, tgid, ppid, nonce, child_pid)"
    )
    after = _expect(RUN, "kptrdoc:run_set=x=child_pid").problem()
    assert after == '__run_set("x", "child_pid"): \'child_pid\' is known only after the event'
    assert "needs a global variable and a value" in _expect(RUN, "kptrdoc:run_check=seen").problem()
    assert _expect(RUN, "kptrdoc:run_check=seen=-1", "kptrdoc:run_set=x=0x10").problem() == ""
    # on a failure the run and its checks are not asked for: __run needs __success
    failing = parse_tags(["kptrdoc:failure", RUN, "kptrdoc:run_check=seen=tgid"])
    assert failing.problem() == "__run(...) needs __success"


def test_variables_must_be_writable_integers() -> None:
    variables = {
        "seen": Variable("seen", ".bss", "bss", 4, "int", True),
        "limit": Variable("limit", ".rodata", "rodata", 4, "const volatile int", True),
        "name": Variable("name", ".data", "data", 16, "char[16]", False),
    }
    expect = _expect(RUN, "kptrdoc:run_check=seen=tgid")
    assert expect.problem(variables) == ""
    assert expect.problem({}) == (
        '__run_check("seen", "tgid"): no global variable \'seen\' in the object '
        "(globals in .bss/.data: none)"
    )
    missing = _expect(RUN, "kptrdoc:run_check=sen=tgid").problem(variables)
    assert (
        "no global variable 'sen'" in missing and "(globals in .bss/.data: seen, name)" in missing
    )
    rodata = _expect(RUN, "kptrdoc:run_set=limit=pid").problem(variables)
    assert "'limit' is in .rodata, which the program cannot write" in rodata
    text = _expect(RUN, "kptrdoc:run_check=name=0").problem(variables)
    assert text.endswith("'name' is char[16], not an integer (1 to 8 bytes)")


def test_object_variables_from_the_object_model(tmp_path: Path) -> None:
    obj = compile_sample(
        write_sample(
            tmp_path,
            "g.bpf.c",
            """
int counter;
long total = 3;
const volatile unsigned char flag = 1;
char name[16];
enum { A, B } state;
SEC("xdp") __success
int p(struct xdp_md *ctx) { counter += name[0] + flag + state; total++; return XDP_PASS; }
""",
        )
    ).path
    found = {n: (v.kind, v.size, v.integer) for n, v in object_variables(load_object(obj)).items()}
    assert found == {
        "counter": ("bss", 4, True),
        "total": ("data", 8, True),
        "flag": ("rodata", 1, True),
        "name": ("bss", 16, False),
        "state": ("bss", 4, True),
    }


def test_every_trigger_records_names_of_the_vocabulary() -> None:
    assert loader.run_triggers() == [
        "close", "fork", "getpgid", "iter", "test_run", "uprobe", "usdt"
    ]  # fmt: skip
    for trigger in loader.run_triggers():
        before, after = loader.trigger_values(trigger)
        assert {"pid", "tgid", "ppid", "nonce"} <= set(before), trigger
        assert set(before + after) <= set(RUN_VALUES), trigger
        assert not set(before) & set(after), trigger
    assert loader.trigger_values("fork") == (("pid", "tgid", "ppid", "nonce"), ("child_pid",))


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("-1", -1), ("0x2a", 42), ("-0X10", -16), ("007", 7), ("tgid", None),
     ("4 2", None), ("", None), ("1e3", None)],
)  # fmt: skip
def test_literals(text: str, value: int | None) -> None:
    assert literal_value(text) == value


def test_the_one_rule_counts_a_wrong_value_as_a_failure() -> None:
    resolved = _expect(RUN, "kptrdoc:run_check=seen=tgid").resolve((6, 18))
    assert resolved.checks == (ValueSpec("seen", "tgid"),)
    assert '__run_check("seen", "tgid") (user space reads it back)' in resolved.describe()
    assert outcome("loaded", 0, "", True) is Outcome.RAN
    assert outcome("loaded", 0, "", True, wrong="x") is Outcome.RAN_WRONG
    assert outcome("loaded", 0, "", True, wrong=True) is Outcome.RAN_WRONG
    # a run that did not happen is not a wrong value
    assert outcome("loaded", 0, "", False, wrong="x") is Outcome.DID_NOT_RUN
    assert outcome("loaded", 0, "attach failed: EPERM", None, wrong="x") is Outcome.ATTACH_REFUSED
    assert Outcome.RAN_WRONG.loaded and Outcome.RAN_WRONG.label == (
        "ran, but user space read a wrong value"
    )
    said = '__run_check("seen", "tgid"): user space read seen = 1, expected 2 (tgid)'
    checked = check(resolved, Outcome.RAN_WRONG, recorded=False, wrong=said)
    assert checked.status is Status.WRONG_VALUE and checked.detail == said
    assert checked.status.fails and not checked.ok
    assert check(resolved, Outcome.RAN, recorded=True).status is Status.AS_EXPECTED
    # on a kernel where __failure_on makes it a mistake, no run and no check is asked
    ranged = parse_tags(["kptrdoc:failure@<7", RUN, "kptrdoc:run_check=seen=tgid"])
    assert ranged.resolve((6, 18)).checks == () and ranged.resolve((7, 1)).checks != ()


def test_wrong_values_reads_the_loader_json() -> None:
    checks = [
        {"variable": "a", "value": "fd", "expected": 5, "got": 5, "ok": True, "error": ""},
        {"variable": "b", "value": "fd", "expected": 5, "got": 4, "ok": False, "error": ""},
        {"variable": "c", "value": "7", "expected": 7, "got": 0, "ok": False, "error": ""},
        {"variable": "d", "value": "nr", "expected": None, "got": None, "ok": False,
         "error": "the trigger did not record 'nr'"},
    ]  # fmt: skip
    assert wrong_values(checks) == (
        '__run_check("b", "fd"): user space read b = 4, expected 5 (fd); '
        '__run_check("c", "7"): user space read c = 0, expected 7; '
        '__run_check("d", "nr"): the trigger did not record \'nr\''
    )
    assert wrong_values(checks[:1]) == "" and wrong_values([]) == ""
