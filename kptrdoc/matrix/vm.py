"""Boot one kernel under QEMU (TCG) and run a prepared ``run.sh`` inside it.

The caller prepares a run directory holding ``run.sh``; the guest's init
(see :mod:`kptrdoc.matrix.initramfs`) mounts that directory writable at the
same path inside the shared host root, runs the script in a ``chroot`` and
writes its exit status to ``status``. Whatever the script writes there is
read back by the caller.

The console goes to a log file in the cache, kept for debugging. A guest
that does not finish within the timeout is killed; QEMU never outlives the
call.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kptrdoc.errors import KptrdocError
from kptrdoc.matrix import initramfs
from kptrdoc.matrix.kernels import Kernel

QEMU = "qemu-system-x86_64"
MEMORY = "2G"
POLL_SECONDS = 0.2
HOST_SHARE = "security_model=none,readonly=on,multidevs=remap"
"""The host root, read-only. ``multidevs=remap`` keeps inode numbers of different host
file systems apart: without it the guest confuses e.g. ``/proc`` and ``/sys``."""


_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()
_PR_SET_PDEATHSIG = 1
_PRCTL = getattr(ctypes.CDLL(None), "prctl", None)  # looked up before fork, called after


def _die_with_parent() -> None:
    """In the QEMU child: get SIGKILL if the thread that started it dies (no orphans)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def kill_all() -> None:
    """Kill every QEMU this process started and has not reaped yet (on interrupt)."""
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for proc in procs:
        if proc.poll() is None:
            proc.kill()


class VMError(KptrdocError):
    """QEMU is missing or could not be started."""


@dataclass(frozen=True)
class Boot:
    """How one boot went. ``error`` is ``None`` when ``run.sh`` ran to its end."""

    kernel: Kernel
    error: str | None
    status: int | None
    seconds: float
    console: Path

    @property
    def booted(self) -> bool:
        return self.error is None or not self.error.startswith("kernel failed to boot")


def qemu() -> Path:
    found = shutil.which(QEMU)
    if not found:
        raise VMError(f"{QEMU} not found: install qemu-system-x86 ('make setup')")
    return Path(found)


def _check_path(path: Path) -> None:
    # The run directory travels on the kernel command line and through 9p mount points.
    if re.search(r"\s", str(path)) or not path.is_absolute():
        raise VMError(f"{path}: must be an absolute path without spaces (kernel command line)")


def command(kernel: Kernel, image: Path, run_dir: Path) -> list[str]:
    """The QEMU command line booting ``kernel`` for ``run_dir``."""
    if kernel.vmlinuz is None:
        raise VMError(f"{kernel.id}: no vmlinuz to boot")
    _check_path(run_dir)
    append = f"console=ttyS0 panic=-1 quiet kptrdoc_run={run_dir}"
    if kernel.config is not None:
        _check_path(kernel.config)
        append += f" kptrdoc_config={kernel.config}"
    return [
        str(qemu()),
        "-accel", "tcg",
        "-m", MEMORY,
        "-smp", "1",
        "-nodefaults",
        "-no-user-config",
        "-display", "none",
        "-serial", "stdio",
        "-no-reboot",
        "-kernel", str(kernel.vmlinuz),
        "-initrd", str(image),
        "-append", append,
        "-virtfs", f"local,path=/,mount_tag={initramfs.HOST_TAG},{HOST_SHARE}",
        "-virtfs", f"local,path={run_dir},mount_tag={initramfs.RUN_TAG},security_model=none",
    ]  # fmt: skip


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(initramfs.MARK_INIT)]
    return lines[-1][:200] if lines else ""


def _verdict(
    console: str, status_file: Path, timed_out: float | None, returncode: int | None
) -> tuple[str | None, int | None]:
    """(error or None, exit status of run.sh) from what the guest left behind."""
    if status_file.exists():
        try:
            return None, int(status_file.read_text().strip() or "0")
        except ValueError:
            return None, None
    fail = re.search(rf"^{initramfs.MARK_FAIL} (.*)$", console, re.M)
    if fail:
        return f"kernel failed to boot: its init could not {fail.group(1).strip()}", None
    if initramfs.MARK_MOUNTED in console:
        if timed_out is not None:
            return f"guest hung while running the loader (killed after {timed_out:.0f} s)", None
        return f"guest stopped while running the loader: {_last_line(console)}", None
    if timed_out is None and initramfs.MARK_INIT in console:
        return f"kernel failed to boot: its init stopped: {_last_line(console)}", None
    if timed_out is not None:
        where = "before its init ran" if initramfs.MARK_INIT not in console else "in its init"
        return (
            f"kernel failed to boot: no progress {where} (killed after {timed_out:.0f} s)"
        ), None
    last = _last_line(console)
    if not last:
        last = f"QEMU exited (status {returncode}) without any console output"
    return f"kernel failed to boot: {last}", None


def boot(kernel: Kernel, run_dir: Path, console_log: Path, timeout: float) -> Boot:
    """Boot ``kernel``, run ``run_dir/run.sh`` in it and wait at most ``timeout`` seconds."""
    start = time.monotonic()
    image = initramfs.initramfs_for(kernel)
    cmd = command(kernel, image, run_dir)
    console_log.parent.mkdir(parents=True, exist_ok=True)
    status_file = run_dir / "status"
    status_file.unlink(missing_ok=True)
    timed_out: float | None = None
    with console_log.open("wb") as log:
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise VMError(f"{cmd[0]}: cannot start QEMU ({exc.strerror})") from None
        with _LIVE_LOCK:
            _LIVE.add(proc)
        try:
            while proc.poll() is None:
                if time.monotonic() - start > timeout:
                    timed_out = timeout
                    break
                time.sleep(POLL_SECONDS)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            with _LIVE_LOCK:
                _LIVE.discard(proc)
    console = console_log.read_text(errors="replace")
    error, status = _verdict(console, status_file, timed_out, proc.returncode)
    return Boot(kernel, error, status, time.monotonic() - start, console_log)
