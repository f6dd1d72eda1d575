"""Collect-side helpers on small inputs (no kernel, no build)."""

from __future__ import annotations

from kptrdoc.handler.chains import member_names_used
from kptrdoc.handler.model import ChainStep
from kptrdoc.handler.sources import function_source, log_lines_with, macro_lines

SOURCE = """\
/* __kptr in a comment does not count */
struct v {
	struct bpf_cpumask __kptr *m;	/* __kptr */
};
SEC("tp_btf/x")
__success __description("a __kptr in a string does not count")
int BPF_PROG(prog, int a)
{
	if (a) {
		return 1;
	}
	return 0;
}
"""


def test_macro_lines_skip_comments_and_strings() -> None:
    assert macro_lines(SOURCE, "__kptr") == [3]
    assert macro_lines(SOURCE, ["nothing", "BPF_PROG"]) == [7]


def test_function_source_spans_sec_to_brace() -> None:
    text, first = function_source(SOURCE, "prog")
    assert first == 5
    assert text.splitlines()[0] == 'SEC("tp_btf/x")' and text.splitlines()[-1] == "}"


def test_log_lines_with() -> None:
    log = "0: r1 = 1\nUnreleased reference id=4 alloc_insn=13\nprocessed 15 insns"
    assert log_lines_with(log, ["Unreleased reference"]) == [
        "Unreleased reference id=4 alloc_insn=13"
    ]
    assert log_lines_with(log, ["absent"]) == []


def test_member_names_used() -> None:
    source = "struct {\n\t__uint(type, X);\n\t__uint(max_entries, 1);\n\t// __uint(no, 1)\n} m;"
    assert member_names_used(source, "__uint") == ["type", "max_entries"]


def test_chain_labels() -> None:
    assert ChainStep("TYPE_TAG", "kptr", 5).label == "TYPE_TAG 'kptr'"
    assert ChainStep("member", "cpumask", None).label == "member cpumask"
    assert ChainStep("STRUCT", "", 3).label == "STRUCT (anon)"
