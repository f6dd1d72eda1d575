"""kptrdoc.headers.applicable_definition: the definition a build ends up with, checked
against the headers' own text and against ``clang -E -dM`` (an independent run)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from definitions_support import HEADERS, final_macros, squeeze

from kptrdoc import headers
from kptrdoc.errors import KptrdocError
from kptrdoc.headers import AppliedDefinition, HeaderError, PreprocessError


def grep_lines(path: Path, pattern: str) -> list[int]:
    out = subprocess.run(["grep", "-n", "-E", pattern, str(path)], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return [int(line.split(":", 1)[0]) for line in out.splitlines()]


def helpers_h(applied: AppliedDefinition) -> Path:
    return applied.sites[0].definition.path.parent / "bpf_helpers.h"


# ---------------------------------------------------------------- SEC


def test_sec_under_clang_is_the_pragma_branch(default_flags) -> None:
    sec = headers.applicable_definition("SEC", default_flags)
    path = helpers_h(sec)
    gcc_line, clang_line = grep_lines(path, r"^#define SEC\(name\)")
    assert sec.defined and sec.header == "bpf_helpers.h"
    assert sec.line == clang_line
    lines = path.read_text().splitlines()
    # the exact lines of the header, continuation lines included (the last one is blank)
    end = clang_line
    while lines[end - 1].rstrip().endswith("\\"):
        end += 1
    assert sec.text == "\n".join(lines[clang_line - 1 : end])
    assert sec.text.count("\n") == 5
    assert '_Pragma("GCC diagnostic push")' in sec.text
    assert "__attribute__((section(name), used))" in sec.text
    # the branch it sits under, and the GCC one listed with its own condition
    assert [c.directive for c in sec.conditions] == ["else"]
    assert sec.condition == "!(__GNUC__ && !__clang__)"
    assert [(s.definition.line, s.applies) for s in sec.sites] == [
        (gcc_line, False),
        (clang_line, True),
    ]
    (gcc,) = sec.others
    assert gcc.definition.text == "#define SEC(name) __attribute__((section(name), used))"
    assert gcc.condition == "__GNUC__ && !__clang__"
    assert gcc.conditions[0].directive == "if"
    assert gcc.conditions[0].line == grep_lines(path, r"^#if __GNUC__ && !__clang__")[0]
    assert "Pragma macros are broken on GCC" in gcc.definition.comment
    assert sec.applied_site is not None and sec.applied_site.definition is sec.definition
    assert sec.params == "(name)" and sec.uses == ()
    assert f"bpf_helpers.h:{clang_line}" in sec.summary


def test_sec_matches_clang_dm(default_flags, tmp_path) -> None:
    sec = headers.applicable_definition("SEC", default_flags)
    truth = final_macros(default_flags, tmp_path)["SEC"]
    assert squeeze(sec.text) == squeeze(truth)
    assert squeeze(sec.text) != squeeze(sec.others[0].definition.text)


def test_sec_without_clang_macro_takes_the_gcc_branch(default_flags, tmp_path) -> None:
    """The choice really follows the preprocessor: with __clang__ undefined (clang still
    defines __GNUC__), the other branch applies."""
    flags = [*default_flags, "-Wno-builtin-macro-redefined", "-U__clang__"]
    sec = headers.applicable_definition("SEC", flags)
    assert sec.text == "#define SEC(name) __attribute__((section(name), used))"
    assert sec.condition == "__GNUC__ && !__clang__"
    assert squeeze(sec.text) == squeeze(final_macros(flags, tmp_path)["SEC"])


# ---------------------------------------------------------------- PT_REGS_PARM1 per arch


def test_pt_regs_parm1_x86_vs_arm64(x86_flags, arm64_flags, tmp_path) -> None:
    x86 = headers.applicable_definition("PT_REGS_PARM1", x86_flags)
    arm = headers.applicable_definition("PT_REGS_PARM1", arm64_flags)
    # the same generic line for both, the arch-independent fallback not applied
    assert x86.text == arm.text == "#define PT_REGS_PARM1(x) (__PT_REGS_CAST(x)->__PT_PARM1_REG)"
    assert x86.condition == arm.condition == "defined(bpf_target_defined)"
    assert [s.condition for s in x86.others] == ["!defined(bpf_target_defined)"]
    assert "__BPF_TARGET_MISSING" in x86.others[0].definition.text
    assert "__PT_PARM1_REG" in x86.uses and "__PT_PARM1_REG" in arm.uses
    # ... which differ in the register the body names
    x86_reg = headers.applicable_definition("__PT_PARM1_REG", x86_flags)
    arm_reg = headers.applicable_definition("__PT_PARM1_REG", arm64_flags)
    assert x86_reg.text == "#define __PT_PARM1_REG di"
    assert arm_reg.text == "#define __PT_PARM1_REG regs[0]"
    assert x86_reg.line != arm_reg.line
    assert x86_reg.condition == (
        "defined(bpf_target_x86) && (defined(__KERNEL__) || defined(__VMLINUX_H__))"
    )
    assert arm_reg.condition == "defined(bpf_target_arm64)"
    assert arm_reg.conditions[0].directive == "elif"
    assert arm_reg.conditions[0].exact.endswith("&& defined(bpf_target_arm64)")
    assert "!defined(bpf_target_x86)" in arm_reg.conditions[0].exact
    # every site is listed once per build; each build marks exactly one, not the same
    assert [s.location for s in x86_reg.sites] == [s.location for s in arm_reg.sites]
    assert len(x86_reg.sites) >= 10
    assert sum(s.applies for s in x86_reg.sites) == sum(s.applies for s in arm_reg.sites) == 1
    assert x86_reg.applied_site != arm_reg.applied_site
    # independent truth: clang -dM of each build
    for flags, outer, reg in ((x86_flags, x86, x86_reg), (arm64_flags, arm, arm_reg)):
        truth = final_macros(flags, tmp_path)
        assert squeeze(outer.text) == squeeze(truth["PT_REGS_PARM1"])
        assert squeeze(reg.text) == squeeze(truth["__PT_PARM1_REG"])


def test_x86_register_names_depend_on_vmlinux_h(x86_flags, tmp_path) -> None:
    """Without vmlinux.h (no __VMLINUX_H__) bpf_tracing.h uses user space's pt_regs."""
    reg = headers.applicable_definition("__PT_PARM1_REG", x86_flags, vmlinux=False)
    assert reg.text == "#define __PT_PARM1_REG rdi"
    assert "!(defined(__KERNEL__) || defined(__VMLINUX_H__))" in reg.condition
    assert "!defined(__i386__)" in reg.condition
    truth = final_macros(x86_flags, tmp_path, vmlinux=False)
    assert squeeze(reg.text) == squeeze(truth["__PT_PARM1_REG"])


def test_no_target_arch_takes_the_missing_target_branch(default_flags, tmp_path) -> None:
    flags = [f for f in default_flags if not f.startswith("-D__TARGET_ARCH_")]
    parm1 = headers.applicable_definition("PT_REGS_PARM1", flags)
    assert parm1.condition == "!defined(bpf_target_defined)"
    assert "_Pragma(__BPF_TARGET_MISSING)" in parm1.text
    assert "__BPF_TARGET_MISSING" in parm1.uses
    # usdt.bpf.h's inline code uses PT_REGS_*: without a target it does not preprocess
    assert len(parm1.skipped) == 1
    assert parm1.skipped[0].startswith("usdt.bpf.h: ")
    assert "Must specify a BPF target arch" in parm1.skipped[0]
    truth = final_macros(flags, tmp_path, headers=HEADERS[:-1])
    assert squeeze(parm1.text) == squeeze(truth["PT_REGS_PARM1"])


def test_parm7_on_x86_is_unsupported_on_arm64_a_register(x86_flags, arm64_flags) -> None:
    """libbpf 1.7 defines PT_REGS_PARM7 on every target; on x86 its register is the
    ``__unsupported__`` fallback (a compile error where it is used)."""
    x86 = headers.applicable_definition("PT_REGS_PARM7", x86_flags)
    assert x86.defined and "__PT_PARM7_REG" in x86.uses
    x86_reg = headers.applicable_definition("__PT_PARM7_REG", x86_flags)
    arm_reg = headers.applicable_definition("__PT_PARM7_REG", arm64_flags)
    assert x86_reg.text == "#define __PT_PARM7_REG __unsupported__"
    assert x86_reg.condition == "defined(bpf_target_defined) && !defined(__PT_PARM7_REG)"
    assert arm_reg.text == "#define __PT_PARM7_REG regs[6]"
    assert not any(s.condition.startswith("defined(bpf_target_x86)") for s in x86_reg.sites)


def test_not_defined_for_the_build_is_reported(x86_flags, arm64_flags) -> None:
    missing = headers.applicable_definition("bpf_target_arm64", x86_flags)
    assert not missing.defined
    assert missing.definition is None and missing.text == "" and missing.line == 0
    assert missing.applied_site is None and len(missing.others) == len(missing.sites) == 2
    assert missing.summary.startswith(
        "bpf_target_arm64 is not defined for -target bpf -D__TARGET_ARCH_x86"
    )
    assert "bpf_tracing.h:" in missing.summary and "defined(__TARGET_ARCH_arm64)" in missing.summary
    present = headers.applicable_definition("bpf_target_arm64", arm64_flags)
    assert present.defined and present.condition == "defined(__TARGET_ARCH_arm64)"


# ---------------------------------------------------------------- every macro, both builds


@pytest.mark.parametrize("build", ["x86_flags", "arm64_flags"])
def test_every_macro_matches_clang_dm(build, request, tmp_path) -> None:
    """For every name the five headers #define, the applied definition (read from the
    header at the line clang's markers give) is what ``clang -E -dM`` ends up with."""
    flags = request.getfixturevalue(build)
    truth = final_macros(flags, tmp_path)
    pre = headers.preprocess_headers(flags)
    names = {n for n in headers._all_define_names(pre.include_dir)}
    checked = 0
    for name in sorted(names):
        applied = headers.applicable_definition(name, flags)
        if name not in truth:
            assert not applied.defined, name
            continue
        assert applied.defined, name
        assert squeeze(applied.text) == squeeze(truth[name]), name
        assert sum(s.applies for s in applied.sites) == 1, name
        checked += 1
    assert checked > 300


# ---------------------------------------------------------------- conditions, cache, errors


def test_conditions_of_a_definition(default_flags) -> None:
    pre = headers.preprocess_headers(default_flags)
    (likely,) = headers.find_definitions("likely", pre.include_dir)
    (cond,) = headers.conditions(likely)
    assert (cond.directive, cond.expression, cond.text) == ("ifndef", "likely", "!defined(likely)")
    (kptr,) = headers.find_definitions("__kptr", pre.include_dir)
    assert headers.conditions(kptr) == ()  # the include guard is not a condition


def test_condition_text_forms() -> None:
    c = headers.Condition
    assert c("ifdef", "X", 1).text == "defined(X)"
    assert c("else", "", 3, ("defined(X)",)).text == "!defined(X)"
    assert c("else", "", 3, ("!defined(X)",)).text == "defined(X)"
    assert c("else", "", 3, ("A || B",)).text == "!(A || B)"
    assert c("else", "", 5, ("A", "B")).text == "!A && !B"
    assert c("elif", "B || C", 4, ("A",)).exact == "!A && (B || C)"
    assert headers.condition_text([c("if", "A || B", 1), c("ifdef", "C", 2)]) == (
        "(A || B) && defined(C)"
    )
    assert headers.condition_text([c("if", "(A) || (B)", 1)]) == "((A) || (B))"


def test_preprocessing_is_cached_per_process_and_on_disk(default_flags) -> None:
    first = headers.preprocess_headers(default_flags)
    assert headers.preprocess_headers(default_flags) is first
    headers._preprocess.cache_clear()
    again = headers.preprocess_headers(default_flags)
    assert again is not first and again.cached == "disk"
    assert again.macros == first.macros and again.files == first.files
    assert "bpf_helpers.h" in again.headers and not again.skipped


def test_usdt_left_out_when_it_does_not_preprocess(default_flags, monkeypatch) -> None:
    """Without an <asm/errno.h> the build cannot include usdt.bpf.h: the other
    headers still count, and usdt's macros say why they are missing."""
    if any("uapi" in f for f in default_flags):
        pytest.skip("these flags bring their own uapi headers")
    monkeypatch.setattr(headers, "_fallback_includes", lambda: [])
    from kptrdoc.toolchain import multiarch_includes

    multiarch = multiarch_includes()  # a sample build's flags carry it: take it out
    if multiarch:
        at = next(i for i in range(len(default_flags) - 1)
                  if default_flags[i : i + 2] == multiarch)  # fmt: skip
        default_flags = default_flags[:at] + default_flags[at + 2 :]
    flags = [*default_flags, "-idirafter", "/nonexistent-kptrdoc-test"]  # a key of its own
    headers._preprocess.cache_clear()
    try:
        pre = headers.preprocess_headers(flags)
        assert "usdt.bpf.h" not in pre.headers
        assert len(pre.skipped) == 1 and "asm/errno.h" in pre.skipped[0]
        usdt = headers.applicable_definition("BPF_USDT", flags)
        assert not usdt.defined and "usdt.bpf.h: " in usdt.summary
        assert headers.applicable_definition("SEC", flags).defined
    finally:
        headers._preprocess.cache_clear()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["-target", "nonsense-triple"], "unknown target triple 'nonsense-triple'"),
        (["-fno-such-kptrdoc-flag"], "unknown argument: '-fno-such-kptrdoc-flag'"),
        (["-target", "bpf", "-nostdinc"], "'bpf/bpf_helpers.h' file not found"),
    ],
)
def test_broken_builds_give_one_line_errors(flags, expected) -> None:
    with pytest.raises(PreprocessError) as caught:
        headers.applicable_definition("SEC", flags)
    message = str(caught.value)
    assert isinstance(caught.value, KptrdocError)
    assert "\n" not in message and expected in message
    assert message.startswith("clang -E of the libbpf headers with ")


def test_missing_header_of_the_build(default_flags) -> None:
    with pytest.raises(PreprocessError, match=r"'/nonexistent/kptrdoc\.h' file not found"):
        headers.applicable_definition("SEC", [*default_flags, "-include", "/nonexistent/kptrdoc.h"])


def test_unknown_and_non_macro_names(default_flags) -> None:
    with pytest.raises(HeaderError, match=r"^no_such_macro: not defined in the eBPF-side"):
        headers.applicable_definition("no_such_macro", default_flags)
    with pytest.raises(HeaderError, match=r"not a macro \(enum at bpf_helpers\.h:\d+\)"):
        headers.applicable_definition("libbpf_pin_type", default_flags)


def test_build_label() -> None:
    flags = ["-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_arm64", "-I", "/x", "-mcpu=v4",
             "-D", "FOO=1", "-Wall"]  # fmt: skip
    assert headers.build_label(flags) == "-target bpf -D__TARGET_ARCH_arm64 -mcpu=v4 -DFOO=1"
    assert re.match(r"clang's defaults", headers.build_label(["-g"]))
