"""CO-RE relocations of an object, resolved against the BTF of each recorded kernel.

The values :func:`kptrdoc.core.resolve` reports are checked against truths
that do not go through it: libbpf's own debug log of a relocation run set up
by ``core_support`` (and of a real load through :mod:`kptrdoc.loader`),
``pahole`` on the same BTF file, and our BTF reader.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from core_support import (
    KINDS_SAMPLE,
    OPERAND_BITS,
    REPO,
    OpenOpts,
    TargetKernel,
    bpf_access,
    host_kernel,
    kernel_ids,
    libbpf_load_log,
    new_kernel_ids,
    pahole_struct,
    patch_lines,
    recorded_kernel,
    recorded_labels,
    same_bits,
    skip_or_fail,
)

from kptrdoc import core
from kptrdoc.btf import Enum, Struct, load_btf

LABELS = recorded_labels()


@pytest.fixture(scope="module")
def kinds_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture sample with every relocation kind, compiled (cached by content)."""
    from kptrdoc.compile import compile_sample
    from kptrdoc.errors import KptrdocError

    src = tmp_path_factory.mktemp("core") / "core_kinds.bpf.c"
    src.write_text(KINDS_SAMPLE)
    try:
        return compile_sample(src).path
    except KptrdocError as exc:
        skip_or_fail(f"the CO-RE fixture does not compile here: {exc}")
        raise AssertionError("unreachable") from None


@pytest.fixture(scope="module")
def bpf() -> None:
    bpf_access()


@pytest.fixture(scope="module", params=LABELS)
def kernel(request: pytest.FixtureRequest) -> TargetKernel:
    return recorded_kernel(request.param)


@pytest.fixture(scope="module")
def all_kernels() -> list[TargetKernel]:
    return [recorded_kernel(label) for label in LABELS]


def by_slot(
    resolved: tuple[core.ResolvedRelocation, ...],
) -> dict[tuple[str, int], core.ResolvedRelocation]:
    """Our relocations by the slots libbpf may patch: an ``ld_imm64``'s second slot too,
    which libbpf poisons with the first (``bpf_core_patch_insn()``: "poison second part of
    ldimm64 to avoid confusing error from verifier about truncated insn")."""
    from kptrdoc.objects.model import Operand

    slots: dict[tuple[str, int], core.ResolvedRelocation] = {}
    for r in resolved:
        slots[(r.relocation.program, r.relocation.insn)] = r
        if r.relocation.operand is Operand.IMM64:
            slots.setdefault((r.relocation.program, r.relocation.insn + 1), r)
    return slots


def find(
    resolved: tuple[core.ResolvedRelocation, ...], kind: str, path: str
) -> list[core.ResolvedRelocation]:
    found = [r for r in resolved if r.relocation.kind == kind and r.relocation.path == path]
    assert found, f"no {kind} relocation of {path} in {[r.relocation for r in resolved]}"
    return found


def value(resolved: tuple[core.ResolvedRelocation, ...], kind: str, path: str) -> int | None:
    values = {r.value for r in find(resolved, kind, path)}
    assert len(values) == 1, f"{kind} {path}: different values {values}"
    return values.pop()


# --------------------------------------------------------------------------
# From the object alone
# --------------------------------------------------------------------------


def test_every_kind_is_in_the_fixture(kinds_object: Path) -> None:
    relos = core.relocations(kinds_object)
    assert {r.kind for r in relos} == set(core.KIND_NAMES)
    assert all(r.operand is not core.Operand.NONE for r in relos)
    assert all(r.local_value is not None for r in relos)
    tgid = [r for r in relos if r.path == "task_struct.tgid" and r.kind == "byte_off"]
    assert {r.type_name for r in tgid} == {"struct task_struct"}
    # the subprogram's read is numbered within the subprogram, as libbpf numbers it
    (sub,) = [r for r in relos if r.program == "sub_tgid"]
    assert sub.section == ".text" and sub.kind == "byte_off" and sub.path == "task_struct.tgid"
    assert sub.section_insn > sub.insn  # sub_pid comes first in .text
    kinds = [r for r in relos if r.program == "kinds"]
    assert kinds and all(r.section_insn > r.insn for r in kinds)  # after "first"
    assert {r.program for r in relos} == {"first", "kinds", "sub_pid", "sub_tgid"}
    # a direct read patches the load's offset (with its access size), a BPF_CORE_READ an imm
    assert {(r.operand, r.mem_size) for r in tgid} >= {
        (core.Operand.OFF, 4),
        (core.Operand.IMM, None),
    }
    enum = find_relo(relos, "enumval_value", "cpuhp_state::CPUHP_AP_ONLINE_DYN")
    assert enum.type_name == "enum cpuhp_state"


def find_relo(relos: tuple[core.CoreRelocation, ...], kind: str, path: str) -> core.CoreRelocation:
    found = [r for r in relos if r.kind == kind and r.path == path]
    assert len(found) == 1, found
    return found[0]


def test_local_values_are_the_compiled_instructions(kinds_object: Path) -> None:
    """The local value is the operand of the instruction in the object's section bytes."""
    from kptrdoc.elf import read_object

    elf = read_object(kinds_object)
    spec = load_btf(kinds_object)
    for r in core.relocations(kinds_object):
        data = elf.sections[r.section].data
        _code, _regs, off, imm = struct.unpack_from("<BBhi", data, r.section_insn * 8)
        if r.operand is core.Operand.OFF:
            assert r.local_value == off
        elif r.operand is core.Operand.IMM:
            assert r.local_value == imm
        else:
            hi = struct.unpack_from("<i", data, r.section_insn * 8 + 12)[0]
            assert r.local_value == (imm & 0xFFFFFFFF) | ((hi & 0xFFFFFFFF) << 32)
        if r.kind == "local_type_id":
            assert r.local_value == r.type_id
            assert spec.types[r.type_id].name == "task_struct"


def test_samples_with_field_reads_have_relocations() -> None:
    from kptrdoc.compile import compile_sample

    src = REPO / "samples" / "__arg_nullable" / "mistakes.bpf.c"
    if not src.exists():
        pytest.skip(f"{src} is gone")
    relos = core.relocations(compile_sample(src).path)
    paths = {r.path for r in relos}
    assert {"task_struct.tgid", "task_struct.group_leader"} <= paths
    assert any(r.section == ".text" and r.program == "leader_pid" for r in relos)


# --------------------------------------------------------------------------
# Truth 1: libbpf's own log of relocation runs
# --------------------------------------------------------------------------


def check_against_log(resolved: tuple[core.ResolvedRelocation, ...], messages: list[str]) -> int:
    """Every patched/poisoned instruction in libbpf's log is one of ours, with our value."""
    lines = patch_lines(messages)
    assert lines, "libbpf logged no CO-RE relocation"
    ours = by_slot(resolved)
    seen = set()
    for line in lines:
        r = ours.get((line.program, line.insn))
        assert r is not None, f"libbpf patched {line}, which we do not report"
        seen.add((line.program, line.insn))
        assert r.relocation.index == line.relo, (r, line)
        if line.what == "poison":
            assert r.poisoned and r.value is None, (r, line)
        elif line.what == "mem_sz":
            assert r.mem_size == line.new and r.relocation.mem_size == line.old, (r, line)
        else:
            assert line.what == r.relocation.operand.value, (r, line)
            bits = OPERAND_BITS[line.what]
            assert not r.poisoned and r.value is not None, (r, line)
            assert same_bits(r.value, line.new, bits), (r, line)
            assert r.relocation.local_value is not None
            assert same_bits(r.relocation.local_value, line.old, bits), (r, line)
    missing = [r for r in resolved if (r.relocation.program, r.relocation.insn) not in seen]
    assert not missing, f"libbpf did not log these: {missing}"
    return len(lines)


def test_host_load_log_matches(kinds_object: Path, bpf: None) -> None:
    """A real load into the running kernel: libbpf relocates against its BTF, the verifier
    accepts the result, and each relocation libbpf logged is ours with the same value."""
    from kptrdoc.loader import LOADED, load_program

    host = host_kernel()
    resolved = core.resolve(kinds_object, host.btf)
    for program in ("first", "kinds"):
        result = load_program(kinds_object, program, log_level=1)
        assert result.verdict == LOADED, result.reason
        mine = tuple(
            r for r in resolved if r.relocation.program in (program, "sub_pid", "sub_tgid")
        )
        check_against_log(mine, result.libbpf_messages)


def test_recorded_kernel_log_matches(kinds_object: Path, kernel: TargetKernel, bpf: None) -> None:
    resolved = core.resolve(kinds_object, kernel.btf)
    assert len(resolved) == len(core.relocations(kinds_object))
    check_against_log(resolved, libbpf_load_log(kinds_object, kernel.btf))
    # our per-relocation log lines are libbpf's, and name the relocation
    for r in resolved:
        assert r.log, r
        assert all(f"relo #{r.relocation.index}:" in line for line in r.log)


def test_repository_samples_match_the_log(all_kernels: list[TargetKernel], bpf: None) -> None:
    """Every sample of the repository that has CO-RE relocations, on every kernel."""
    from kptrdoc.compile import CompileError, compile_sample

    checked = 0
    subprograms = 0
    for src in sorted((REPO / "samples").glob("*/*.bpf.c")):
        try:
            obj = compile_sample(src).path
        except CompileError:
            continue  # a sample whose point is a compiler error
        if not core.relocations(obj):
            continue
        for k in all_kernels:
            resolved = core.resolve(obj, k.btf)
            check_against_log(resolved, libbpf_load_log(obj, k.btf))
            subprograms += sum(r.relocation.section == ".text" for r in resolved)
        checked += 1
    assert checked >= 3, "expected several samples with CO-RE relocations"
    assert subprograms, "expected relocations inside global subprograms"


# --------------------------------------------------------------------------
# Truth 2: pahole and our BTF reader on the same BTF file
# --------------------------------------------------------------------------


def test_plain_field_offsets_match_pahole(kinds_object: Path, kernel: TargetKernel, bpf) -> None:
    resolved = core.resolve(kinds_object, kernel.btf)
    task = pahole_struct(kernel.btf, "task_struct")
    checked = 0
    for r in resolved:
        c = r.relocation
        if c.type_name != "struct task_struct" or c.access.count(":") != 1:
            continue
        member = task.members[c.path.split(".", 1)[1]]
        if member.bit is not None or r.poisoned:
            continue  # bitfields: test_bitfield_relocations; poisoned: test_load_sizes
        if c.kind == "byte_off":
            assert r.value == member.offset, (kernel.label, c.path, r.value, member)
            checked += 1
        elif c.kind == "byte_sz":
            assert r.value == member.size, (kernel.label, c.path, r.value, member)
            checked += 1
    assert checked >= 5
    assert value(resolved, "type_size", "task_struct") == task.size


def test_tgid_offset_differs_between_kernels(kinds_object: Path, all_kernels, bpf) -> None:
    """The point of the pages: the same instruction becomes something else per kernel."""
    offsets = {}
    for k in all_kernels:
        resolved = core.resolve(kinds_object, k.btf)
        offsets[k.label] = value(resolved, "byte_off", "task_struct.tgid")
        assert offsets[k.label] == pahole_struct(k.btf, "task_struct").members["tgid"].offset
    assert len(set(offsets.values())) > 1, offsets


def _bitfield_expectation(spec, member) -> dict[str, int]:
    """libbpf's bitfield arithmetic (relo_core.c bpf_core_calc_field_relo), little endian."""
    t = spec.types[spec.strip(member.type)]
    bit_off = member.bit_offset
    if member.bitfield_size:
        bit_sz = member.bitfield_size
        byte_sz = t.size
        byte_off = bit_off // 8 // byte_sz * byte_sz
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8:
            byte_sz *= 2
            byte_off = bit_off // 8 // byte_sz * byte_sz
    else:
        byte_sz = t.size
        byte_off = bit_off // 8
        bit_sz = byte_sz * 8
    return {
        "byte_off": byte_off,
        "byte_sz": byte_sz,
        "lshift_u64": 64 - (bit_off + bit_sz - byte_off * 8),
        "rshift_u64": 64 - bit_sz,
        "signed": int(bool(getattr(t, "signed", False))),
    }


def test_bitfield_relocations(kinds_object: Path, kernel: TargetKernel, bpf: None) -> None:
    """BPF_CORE_READ_BITFIELD on a 1-bit field and on an int: checked with our BTF reader."""
    resolved = core.resolve(kinds_object, kernel.btf)
    spec = load_btf(kernel.btf)
    (task,) = [t for t in spec.by_name("task_struct", Struct) if t.members]
    members = {m.name: m for m in task.members}
    pahole = pahole_struct(kernel.btf, "task_struct")
    for field in ("sched_reset_on_fork", "prio"):
        want = _bitfield_expectation(spec, members[field])
        got = {
            kind: value(resolved, kind, f"task_struct.{field}")
            for kind in ("byte_off", "byte_sz", "lshift_u64", "rshift_u64", "signed")
        }
        assert got == want, (kernel.label, field)
    assert got["signed"] == 1 and got["byte_off"] == pahole.members["prio"].offset  # prio: int
    assert members["sched_reset_on_fork"].bitfield_size == 1


def test_type_and_enum_relocations(kinds_object: Path, kernel: TargetKernel, bpf: None) -> None:
    resolved = core.resolve(kinds_object, kernel.btf)
    spec = load_btf(kernel.btf)
    (task,) = [t for t in spec.by_name("task_struct", Struct) if t.members]
    assert value(resolved, "target_type_id", "task_struct") == task.id
    (target,) = find(resolved, "target_type_id", "task_struct")
    assert target.target_type_id == task.id
    (local,) = find(resolved, "local_type_id", "task_struct")
    assert local.value == local.relocation.type_id == local.relocation.local_value
    assert value(resolved, "type_exists", "task_struct") == 1
    assert value(resolved, "type_exists", "made_up_struct___x") == 0
    assert value(resolved, "type_size", "task_struct") == task.size
    assert value(resolved, "type_matches", "list_head") == 1
    assert value(resolved, "type_matches", "task_struct___subset") == 1
    assert value(resolved, "enumval_exists", "bpf_func_id::BPF_FUNC_map_lookup_elem") == 1
    assert value(resolved, "enumval_exists", "made_up_enum___x::MADE_UP_VALUE") == 0
    (cpuhp,) = spec.by_name("cpuhp_state", Enum)
    want = {v.name: v.value for v in cpuhp.values}["CPUHP_AP_ONLINE_DYN"]
    assert value(resolved, "enumval_value", "cpuhp_state::CPUHP_AP_ONLINE_DYN") == want
    for r in find(resolved, "enumval_exists", "made_up_enum___x::MADE_UP_VALUE"):
        assert "no matching targets found" in r.reason and not r.poisoned


def test_enum_value_differs_between_kernels(kinds_object: Path, all_kernels, bpf) -> None:
    values = {
        k.label: value(
            core.resolve(kinds_object, k.btf), "enumval_value", "cpuhp_state::CPUHP_AP_ONLINE_DYN"
        )
        for k in all_kernels
    }
    assert len(set(values.values())) > 1, values


def test_missing_fields(kinds_object: Path, kernel: TargetKernel, bpf: None) -> None:
    """A made-up field exists nowhere; robust_list exists on some kernels: where it does
    not, field_exists is 0 and the guarded read is poisoned (a call to helper 0xbad2310)."""
    resolved = core.resolve(kinds_object, kernel.btf)
    spec = load_btf(kernel.btf)
    (task,) = [t for t in spec.by_name("task_struct", Struct) if t.members]
    has_robust_list = any(m.name == "robust_list" for m in task.members)
    (made_up,) = find(resolved, "field_exists", "task_struct___made_up.no_such_field")
    assert made_up.value == 0 and not made_up.poisoned
    assert "no matching targets found" in made_up.reason
    exists = value(resolved, "field_exists", "task_struct___old.robust_list")
    assert exists == int(has_robust_list)
    (read,) = find(resolved, "byte_off", "task_struct___old.robust_list")
    if has_robust_list:
        assert not read.poisoned and read.reason == ""
        assert read.value == pahole_struct(kernel.btf, "task_struct").members["robust_list"].offset
    else:
        assert read.poisoned and read.value is None
        assert "no matching targets found" in read.reason
        assert read.changed


def test_load_sizes(kinds_object: Path, kernel: TargetKernel, bpf: None) -> None:
    """An 8-byte load of an unsigned int is narrowed to 4 bytes; a load of a signed int
    whose size differs on the target is poisoned ("accesses field incorrectly")."""
    resolved = core.resolve(kinds_object, kernel.btf)
    task = pahole_struct(kernel.btf, "task_struct")
    (wide,) = find(resolved, "byte_off", "task_struct___wide.flags")
    assert wide.relocation.operand is core.Operand.OFF and wide.relocation.mem_size == 8
    assert not wide.poisoned
    assert (wide.value, wide.mem_size) == (task.members["flags"].offset, 4)
    assert any("mem_sz 8 -> 4" in line for line in wide.log)
    (on_cpu,) = find(resolved, "byte_off", "task_struct.on_cpu")
    assert value(resolved, "byte_sz", "task_struct.on_cpu") == task.members["on_cpu"].size
    if task.members["on_cpu"].size == on_cpu.relocation.mem_size:
        assert not on_cpu.poisoned
        assert (on_cpu.value, on_cpu.mem_size) == (task.members["on_cpu"].offset, 4)
    else:
        assert on_cpu.poisoned and on_cpu.value is None and on_cpu.mem_size is None
        assert "accesses field incorrectly" in on_cpu.reason


def test_a_load_is_poisoned_on_one_kernel_and_not_another(kinds_object, all_kernels, bpf):
    poisoned = {}
    for k in all_kernels:
        (load,) = find(core.resolve(kinds_object, k.btf), "byte_off", "task_struct.on_cpu")
        poisoned[k.label] = load.poisoned
    assert set(poisoned.values()) == {True, False}, poisoned


def test_a_field_exists_on_one_kernel_and_not_another(kinds_object: Path, all_kernels, bpf):
    exists = {
        k.label: value(
            core.resolve(kinds_object, k.btf), "field_exists", "task_struct___old.robust_list"
        )
        for k in all_kernels
    }
    assert set(exists.values()) == {0, 1}, exists


# --------------------------------------------------------------------------
# Nothing left behind
# --------------------------------------------------------------------------


def test_resolve_leaves_nothing_in_the_kernel(kinds_object: Path, all_kernels, bpf) -> None:
    before = kernel_ids()
    for k in [*all_kernels, host_kernel()]:
        assert core.resolve(kinds_object, k.btf)
    left = new_kernel_ids(before)
    assert not any(left.values()), f"left in the kernel after resolve: {left}"


# --------------------------------------------------------------------------
# Errors: one line, naming the file
# --------------------------------------------------------------------------


def one_line_error(exc: pytest.ExceptionInfo[core.CoreError], path: Path) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    assert text.startswith(f"{path}:"), text
    return text


def test_missing_target_btf(kinds_object: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such.btf"
    with pytest.raises(core.CoreError) as exc:
        core.resolve(kinds_object, missing)
    assert "No such file" in one_line_error(exc, missing)


def test_target_that_is_not_btf(kinds_object: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.btf"
    junk.write_bytes(b"this is not BTF at all")
    with pytest.raises(core.CoreError) as exc:
        core.resolve(kinds_object, junk)
    one_line_error(exc, junk)


def test_truncated_target_btf(kinds_object: Path, tmp_path: Path, bpf: None) -> None:
    truncated = tmp_path / "truncated.btf"
    truncated.write_bytes(host_kernel().btf.read_bytes()[:100])
    with pytest.raises(core.CoreError) as exc:
        core.resolve(kinds_object, truncated)
    assert "target BTF" in one_line_error(exc, truncated)


def test_missing_object(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.o"
    for call in (lambda: core.relocations(missing), lambda: core.resolve(missing, "/dev/null")):
        with pytest.raises(core.CoreError) as exc:
            call()
        one_line_error(exc, missing)


@pytest.mark.parametrize("damage", ["not-elf", "truncated", "btf-ext", "core-offset"])
def test_malformed_object(kinds_object: Path, tmp_path: Path, damage: str) -> None:
    from kptrdoc.elf import read_object

    data = bytearray(kinds_object.read_bytes())
    if damage == "not-elf":
        data = bytearray(b"garbage" * 10)
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        ext = read_object(kinds_object).sections[".BTF.ext"]
        start = bytes(data).find(ext.data)
        assert start > 0
        hdr_len, core_off = struct.unpack_from("<I", data, start + 4)[0], None
        if damage == "btf-ext":  # core_relo_len runs past the end
            struct.pack_into("<I", data, start + 28, 1 << 20)
        else:  # the first CO-RE record points past its section
            core_off = struct.unpack_from("<I", data, start + 24)[0]
            first = start + hdr_len + core_off + 4 + 8  # rec size, then sec name + count
            struct.pack_into("<I", data, first, 1 << 20)
    bad = tmp_path / f"{damage}.o"
    bad.write_bytes(bytes(data))
    for call in (lambda: core.relocations(bad), lambda: core.resolve(bad, "/dev/null")):
        with pytest.raises(core.CoreError) as exc:
            call()
        one_line_error(exc, bad)


def test_no_bpf_permission_is_a_core_error(kinds_object: Path, bpf: None) -> None:
    """libbpf's prepare loads a trivial program first: without bpf() it is a one-line error."""
    if not shutil.which("setpriv"):
        skip_or_fail("setpriv is not installed: cannot drop capabilities for this test")
    try:
        disabled = Path("/proc/sys/kernel/unprivileged_bpf_disabled").read_text().strip()
    except OSError:
        disabled = ""
    if disabled == "0":
        pytest.skip("unprivileged BPF is enabled: dropping capabilities does not stop bpf()")
    code = (
        "import sys; from kptrdoc import core\n"
        "try:\n    core.resolve(sys.argv[1], sys.argv[2])\n"
        "except core.CoreError as exc:\n    print(exc); sys.exit(3)\n"
    )
    cmd = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--",
           sys.executable, "-c", code, str(kinds_object), "/sys/kernel/btf/vmlinux"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    line = proc.stdout.strip()
    assert "\n" not in line and line.startswith(f"{kinds_object}:"), line
    assert "EPERM" in line and "trivial BPF program" in line, line


# --------------------------------------------------------------------------
# The ABI we hand to libbpf
# --------------------------------------------------------------------------


def test_open_opts_layout_matches_libbpf_h(tmp_path: Path) -> None:
    """The ctypes ``bpf_object_open_opts`` has the offsets the pinned libbpf.h gives."""
    from kptrdoc import toolchain

    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang-19")
    if cc is None:
        skip_or_fail("no C compiler to read struct offsets from libbpf.h")
    fields = (
        *("object_name", "relaxed_maps", "pin_root_path", "kconfig", "btf_custom_path"),
        *("kernel_log_buf", "kernel_log_size", "kernel_log_level", "bpf_token_path"),
    )
    prog = tmp_path / "offsets.c"
    prog.write_text(
        "#include <stdio.h>\n#include <stddef.h>\n#include <bpf/libbpf.h>\nint main(void){\n"
        + "".join(
            f'printf("{f} %zu\\n", offsetof(struct bpf_object_open_opts, {f}));\n' for f in fields
        )
        + 'printf("sizeof %zu\\n", sizeof(struct bpf_object_open_opts));\nreturn 0;}\n'
    )
    exe = tmp_path / "offsets"
    include = toolchain.libbpf().include_dir
    subprocess.run([cc, f"-I{include}", str(prog), "-o", str(exe)], check=True, timeout=60)
    printed = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    out = dict(line.split() for line in printed.splitlines())
    for structure in (core._OpenOpts, OpenOpts):
        for f in fields:
            assert getattr(structure, f).offset == int(out[f]), (structure, f)
        assert ctypes.sizeof(structure) == int(out["sizeof"])


def test_cli_prints_one_line_per_relocation(kinds_object: Path, bpf: None) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kptrdoc.core", str(kinds_object), str(host_kernel().btf)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == len(core.relocations(kinds_object))
