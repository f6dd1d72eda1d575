"""Split BTF of real kernel modules, read off a Debian kernel booted under QEMU.

The host exposes no module BTF, so a guest of the kernel matrix copies its
``/sys/kernel/btf/vmlinux`` and the BTF of the modules it loaded (the 9p
stack) into the run directory; ``kptrdoc btf dump MODULE --base vmlinux`` must
print exactly what ``bpftool btf dump file MODULE base vmlinux`` prints, in the raw
and (for both Debian bpftool releases) the C format.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from btf_support import bpftool_c, bpftool_dump, kptrdoc, kptrdoc_c

from kptrdoc.errors import KptrdocError

MODULES = ("9pnet", "9pnet_virtio", "netfs", "9p")


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def guest_btf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("qemu-system-x86_64"):
        _skip_or_fail("qemu-system-x86_64 is not installed: no guest kernel to read BTF from")
    from kptrdoc.matrix import vm
    from kptrdoc.matrix.kernels import fetch

    try:
        kernel = fetch("trixie")
    except KptrdocError as exc:
        _skip_or_fail(f"the trixie kernel is not available: {exc}")
    run_dir = tmp_path_factory.mktemp("guest-btf")
    names = " ".join(MODULES)
    (run_dir / "run.sh").write_text(
        f"cp /sys/kernel/btf/vmlinux {run_dir}/vmlinux\n"
        f"for m in {names}; do\n"
        f"    [ -e /sys/kernel/btf/$m ] && cp /sys/kernel/btf/$m {run_dir}/\n"
        "done\n"
        "exit 0\n"
    )
    result = vm.boot(kernel, run_dir, run_dir / "console.log", timeout=180)
    assert result.error is None, f"{kernel.id}: {result.error}"
    return run_dir


def test_guest_vmlinux(guest_btf: Path, bpftool: str, bpftool_dialect) -> None:
    run = kptrdoc("btf", "dump", str(guest_btf / "vmlinux"), "--bpftool-dialect",
                  bpftool_dialect.name)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == bpftool_dump(bpftool, guest_btf / "vmlinux")


def test_guest_modules_split_btf(guest_btf: Path, bpftool: str, bpftool_dialect) -> None:
    modules = [guest_btf / m for m in MODULES if (guest_btf / m).exists()]
    assert modules, "the guest loaded none of the 9p modules with BTF"
    for module in modules:
        run = kptrdoc("btf", "dump", str(module), "--base", str(guest_btf / "vmlinux"),
                      "--bpftool-dialect", bpftool_dialect.name)  # fmt: skip
        assert run.returncode == 0, run.stderr
        expected = bpftool_dump(bpftool, module, guest_btf / "vmlinux")
        assert run.stdout == expected, module.name
        # split BTF: the module's own ids continue after the base's last one
        assert _first_id(expected) == _last_id(bpftool_dump(bpftool, guest_btf / "vmlinux")) + 1


def test_guest_modules_c_dump(guest_btf: Path, c_bpftool: tuple[str, str]) -> None:
    """``--format c`` of module BTF against its base, as each Debian bpftool prints it."""
    dialect, bpftool = c_bpftool
    vmlinux = guest_btf / "vmlinux"
    modules = [guest_btf / m for m in MODULES if (guest_btf / m).exists()]
    assert modules, "the guest loaded none of the 9p modules with BTF"
    for module in modules:
        expected = bpftool_c(bpftool, module, vmlinux)
        assert kptrdoc_c(dialect, module, "--base", str(vmlinux)) == expected, module.name
    assert kptrdoc_c(dialect, vmlinux) == bpftool_c(bpftool, vmlinux)


def _first_id(dump: bytes) -> int:
    return int(dump.split(b"]", 1)[0].lstrip(b"["))


def _last_id(dump: bytes) -> int:
    last = [line for line in dump.splitlines() if line.startswith(b"[")][-1]
    return int(last.split(b"]", 1)[0].lstrip(b"["))
