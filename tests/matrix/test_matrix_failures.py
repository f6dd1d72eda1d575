"""Kernels that do not boot and guests that hang are reported as such, in bounded time."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from kptrdoc.matrix import results as res
from kptrdoc.matrix import vm
from kptrdoc.matrix.run import run_matrix

pytestmark = pytest.mark.matrix


def _qemu_processes_using(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system" in cmdline and str(path).encode() in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def trixie(kernels):
    return next(k for k in kernels if k.name == "trixie")


def test_truncated_vmlinuz_is_a_boot_failure(trixie, kptr_objects, tmp_path):
    data = trixie.vmlinuz.read_bytes()
    broken_image = tmp_path / "vmlinuz-truncated"
    broken_image.write_bytes(data[: len(data) // 3])
    broken = dataclasses.replace(trixie, name="broken", version="0-truncated", vmlinuz=broken_image)
    store = res.Store(tmp_path / "results.json")
    start = time.monotonic()
    matrix = run_matrix([kptr_objects[0].path], [broken], store=store, timeout=30)
    assert time.monotonic() - start < 45
    (run,) = matrix.runs
    assert run.error and run.error.startswith("kernel failed to boot"), run.error
    assert matrix.cells and all(c.verdict == res.NO_BOOT for c in matrix.cells)
    assert all(c.short == "kernel failed to boot" for c in matrix.cells)
    assert store.entries(matrix.objects[0].sha256) == {}, "a failed boot must not be cached"
    assert run.console is not None and run.console.exists()
    assert _qemu_processes_using(broken_image) == []


def test_kernel_without_9p_fails_to_boot_with_the_reason(trixie, kptr_objects, tmp_path):
    modules = tmp_path / "lib" / "modules" / trixie.release
    (modules / "kernel").mkdir(parents=True)
    no9p = dataclasses.replace(trixie, name="no9p", version="0-no9p", modules=modules)
    matrix = run_matrix([kptr_objects[0].path], [no9p], store=res.Store(tmp_path / "r.json"))
    (run,) = matrix.runs
    assert run.error is not None
    assert run.error.startswith("kernel failed to boot: its init could not"), run.error
    assert "9p" in run.error


def test_hung_guest_is_killed_within_the_timeout(trixie, tmp_path):
    run_dir = vm_run_dir(tmp_path)
    (run_dir / "run.sh").write_text("sleep 600\n")
    start = time.monotonic()
    boot = vm.boot(trixie, run_dir, tmp_path / "console.log", timeout=25)
    elapsed = time.monotonic() - start
    assert boot.error == "guest hung while running the loader (killed after 25 s)", boot.error
    assert elapsed < 35
    assert _qemu_processes_using(run_dir) == []
    assert "KPTRDOC-MOUNTED" in (tmp_path / "console.log").read_text()


def vm_run_dir(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    os.chmod(run_dir, 0o755)
    return run_dir


def test_qemu_dies_with_a_killed_matrix_process(trixie, tmp_path):
    import signal
    import subprocess
    import sys

    run_dir = vm_run_dir(tmp_path)
    (run_dir / "run.sh").write_text("sleep 600\n")
    code = (
        "import sys; from pathlib import Path; from kptrdoc.matrix import vm; "
        "from kptrdoc.matrix.kernels import resolve; "
        "k = resolve(['trixie'])[0]; "
        "vm.boot(k, Path(sys.argv[1]), Path(sys.argv[1]).parent / 'c.log', 300)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(run_dir)])
    try:
        deadline = time.monotonic() + 30
        while not _qemu_processes_using(run_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _qemu_processes_using(run_dir), "QEMU did not start"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while _qemu_processes_using(run_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _qemu_processes_using(run_dir) == [], "QEMU outlived the process that started it"
