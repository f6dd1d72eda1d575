"""The cited kernel history (kptrdoc/data/kernel_history.json), held against the kernels we
have, and the floors derived from it.

Independent truth: each recorded kernel's own BTF. A helper, map, program or attach
type, or kfunc that the facts date at or before a kernel's release must be in that
kernel's BTF (``enum bpf_func_id``, ``enum bpf_map_type``, ``enum bpf_prog_type``,
``enum bpf_attach_type``, a ``FUNC``); one dated after it must be absent, unless the
facts record the Debian package as a backport.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kptrdoc import debversion
from kptrdoc.btf import Spec, load_btf
from kptrdoc.btf.types import Enum, Func
from kptrdoc.facts import kernel_fact, kernel_facts
from kptrdoc.floors import page_floor
from kptrdoc.matrix.record import Record, RecordedKernel
from kptrdoc.objects.uses import UseKind

REPO = Path(__file__).resolve().parents[2]
RECORD = REPO / "samples" / "matrix.lock.json"
KINDS = {k.value for k in UseKind}
# kind -> (enum, prefix of its members)
ENUMS = {
    "helper": ("bpf_func_id", "BPF_FUNC_"),
    "map_type": ("bpf_map_type", ""),
    "prog_type": ("bpf_prog_type", ""),
    "attach_type": ("bpf_attach_type", ""),
}


def test_every_fact_is_cited() -> None:
    facts = kernel_facts()
    assert len(facts) >= 40
    for fact in facts:
        kind, _, name = fact.key.partition(":")
        assert kind in KINDS and name, fact.key
        assert re.fullmatch(r"\d+\.\d+", fact.release), fact.key
        assert re.fullmatch(r"[0-9a-f]{12,40}", fact.commit), fact.key
        assert fact.source, fact.key
        assert fact.subject or not fact.verified, f"{fact.key}: verified, but no subject"
        if fact.fallback:
            older = kernel_fact(fact.fallback)
            assert older is not None, f"{fact.key}: fallback {fact.fallback} is not a fact"
            assert older.version < fact.version, fact.key


def _names(spec: Spec, kind: str) -> set[str]:
    enum, prefix = ENUMS[kind]
    found = [t for t in spec.by_name(enum) if isinstance(t, Enum)]
    assert found, f"no enum {enum} in the kernel's BTF"
    names = {v.name for v in found[0].values}
    if kind == "helper":
        return {"bpf_" + n.removeprefix(prefix).lower() for n in names if n.startswith(prefix)}
    return names


def _btf(kernel: RecordedKernel) -> Path:
    from kptrdoc.errors import KptrdocError
    from kptrdoc.matrix.kernels import btf_file, fetch

    try:
        return btf_file(fetch(kernel.suite, kernel.packages))
    except KptrdocError as exc:
        import os

        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"the BTF of {kernel.label} is not available: {exc}", pytrace=False)
        pytest.skip(f"the BTF of {kernel.label} is not available: {exc}")
        raise


@pytest.mark.parametrize("label", [k.label for k in Record.load(RECORD).kernels])
def test_the_facts_agree_with_each_recorded_kernels_btf(label: str) -> None:
    (kernel,) = [k for k in Record.load(RECORD).kernels if k.label == label]
    spec = load_btf(_btf(kernel))
    release = kernel.upstream[:2]
    names = {kind: _names(spec, kind) for kind in ENUMS}
    wrong = []
    checked = 0
    for fact in kernel_facts():
        kind, _, name = fact.key.partition(":")
        if kind == "kfunc":
            present = bool(spec.by_name(name, Func))
        elif kind in names:
            present = name in names[kind]
        else:
            continue
        checked += 1
        backport = any(debversion.compare(kernel.version, b) == 0 for b in fact.backports)
        if fact.version <= release and not present:
            wrong.append(f"{fact.key}: dated {fact.release}, missing from {label}")
        if fact.version > release and present and not backport:
            wrong.append(f"{fact.key}: dated {fact.release}, yet in {label} ({kernel.version})")
    assert checked >= 40
    assert wrong == []


SAMPLE = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"
{decls}
SEC("tp_btf/task_newtask") {verdict}
int BPF_PROG({name}, struct task_struct *task, u64 clone_flags)
{{
{body}
	return 0;
}}

char LICENSE[] SEC("license") = "GPL";
"""
KFUNCS = """\
struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;
"""
USE_KFUNC = """\
	struct task_struct *t = bpf_task_from_pid(1);
	if (t)
		bpf_task_release(t);
"""


def _write(folder: Path, name: str, verdict: str, decls: str = "", body: str = "") -> None:
    text = SAMPLE.format(decls=decls, verdict=verdict, name=name, body=body)
    (folder / f"{name}.bpf.c").write_text(text)


def test_a_sample_that_uses_a_newer_kfunc_raises_the_floor(tmp_path: Path) -> None:
    folder = tmp_path / "page"
    folder.mkdir()
    _write(folder, "plain", "__success", body="\tbpf_get_current_pid_tgid();")
    first = page_floor(folder)
    assert first.uncited == ()
    tp_btf = kernel_fact("attach_type:BPF_TRACE_RAW_TP")
    assert tp_btf is not None and first.floor == tp_btf.release
    # a mistake that calls the kfunc does not need it: a __failure program counts for nothing
    _write(folder, "mistake", "__failure", KFUNCS, USE_KFUNC)
    assert page_floor(folder).floor == first.floor
    _write(folder, "newer", "__success", KFUNCS, USE_KFUNC)
    raised = page_floor(folder)
    fact = kernel_fact("kfunc:bpf_task_from_pid")
    assert fact is not None and raised.floor == fact.release
    assert fact.version > tp_btf.version
    assert [r.use.key for r in raised.reasons if r.use.kind is UseKind.KFUNC]
    assert {p for r in raised.reasons for p in r.programs} >= {"newer.bpf.c: newer"}


WEAK = """\
struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
void bpf_task_release(struct task_struct *p) __ksym __weak;
"""
GUARDED = """\
	if (bpf_ksym_exists(bpf_task_from_pid)) {
		struct task_struct *t = bpf_task_from_pid(1);
		if (t)
			bpf_task_release(t);
	}
"""


def test_a_weak_kfunc_counts_unless_the_program_checks_that_it_exists(tmp_path: Path) -> None:
    folder = tmp_path / "weak"
    folder.mkdir()
    _write(folder, "guarded", "__success", WEAK, GUARDED)
    guarded = {i.use.key for i in page_floor(folder).items}
    assert "feature:ld_imm64_kfunc" in guarded  # the check itself: ld_imm64 of a kfunc
    assert "kfunc:bpf_task_from_pid" not in guarded
    (folder / "guarded.bpf.c").unlink()
    _write(folder, "unguarded", "__success", WEAK, USE_KFUNC)
    unguarded = {i.use.key for i in page_floor(folder).items}
    assert "kfunc:bpf_task_from_pid" in unguarded and "feature:ld_imm64_kfunc" not in unguarded
