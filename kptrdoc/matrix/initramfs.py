"""A small initramfs per kernel: busybox-static, the 9p modules, and our init.

The init mounts the host's root read-only over virtio-9p (tag ``hostroot``)
and a writable run directory (tag ``kptrdocrun``) at the same path inside it,
then ``chroot``s into the host root and runs ``<run dir>/run.sh`` there. The
run directory is named on the kernel command line (``kptrdoc_run=PATH``), so
one initramfs serves every run of its kernel; so is the kernel's config
(``kptrdoc_config=PATH``), copied to ``/boot/config-<release>`` in the chroot
where libbpf looks for it (``__kconfig`` externs). Progress goes to the console as
marker lines, and the exit status to ``<run dir>/status``; then the guest
powers off.

Modules are taken from the kernel package, decompressed on the host (busybox
``insmod`` may not read ``.ko.xz``/``.ko.zst``) and loaded dependencies first,
as their ``.modinfo`` ``depends=`` says.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import shutil
import stat
import subprocess
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from kptrdoc.errors import KptrdocError
from kptrdoc.matrix.kernels import Kernel

BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
HOST_TAG = "hostroot"
RUN_TAG = "kptrdocrun"
ROOT_MODULES = ("9pnet_virtio", "9p", "virtio_pci")
"""What the init needs; their dependencies come along. Absent ones are built in (if a
kernel lacks 9p altogether, the init reports that it cannot mount the host root)."""

MARK_INIT = "KPTRDOC-INIT"
MARK_MOUNTED = "KPTRDOC-MOUNTED"
MARK_DONE = "KPTRDOC-DONE"
MARK_FAIL = "KPTRDOC-FAIL"

INIT_SCRIPT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "{MARK_INIT} $(uname -r)"
fail() {{ echo "{MARK_FAIL} $*"; sync; sleep 1; poweroff -f; }}  # sleep: let the UART drain
RUN=
CONFIG=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        kptrdoc_run=*) RUN="${{arg#kptrdoc_run=}}" ;;
        kptrdoc_config=*) CONFIG="${{arg#kptrdoc_config=}}" ;;
    esac
done
[ -n "$RUN" ] || fail "no kptrdoc_run= on the kernel command line"
for module in $(cat /modules/order); do
    insmod "/modules/$module" || fail "insmod $module"
done
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose {HOST_TAG} /host \\
    || fail "mount the host root over 9p"
mount -t proc proc /host/proc || fail "mount /proc"
mount -t sysfs sysfs /host/sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /host/dev || fail "mount /dev"
# scratch space for the guest: the host's /tmp stays visible (read-only), since
# the checkout and its venv may live there
mkdir -p /host/dev/shm && mount -t tmpfs tmpfs /host/dev/shm || fail "mount /dev/shm"
mount -t tmpfs tmpfs /host/run 2>/dev/null
mkdir -p "/host$RUN" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 {RUN_TAG} "/host$RUN" \\
    || fail "mount the run directory $RUN over 9p"
if [ -n "$CONFIG" ] && [ -f "/host$CONFIG" ]; then
    mount -t tmpfs tmpfs /host/boot && cp "/host$CONFIG" "/host/boot/config-$(uname -r)"
fi
mount -t bpf bpf /host/sys/fs/bpf || fail "mount bpffs"
mount -t debugfs debugfs /host/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /host/sys/kernel/tracing 2>/dev/null
[ -e /host/sys/kernel/btf/vmlinux ] || echo "kptrdoc: this kernel has no /sys/kernel/btf/vmlinux"
echo "{MARK_MOUNTED}"
TMPDIR=/dev/shm chroot /host /bin/sh "$RUN/run.sh" > "/host$RUN/run.out" 2>&1
status=$?
echo "$status" > "/host$RUN/status"
sync
umount "/host$RUN"
echo "{MARK_DONE} $status"
poweroff -f
"""


class InitramfsError(KptrdocError):
    """The initramfs for a kernel could not be built."""


def busybox() -> Path:
    for path in BUSYBOX_CANDIDATES:
        if path.is_file():
            return path
    raise InitramfsError("busybox not found: install busybox-static ('make setup')")


def _index_modules(modules: Path) -> dict[str, Path]:
    """Module name (``-`` written as ``_``) -> file, for every module of the kernel."""
    index: dict[str, Path] = {}
    for path in (modules / "kernel").rglob("*.ko*"):
        name = path.name.split(".ko", 1)[0].replace("-", "_")
        index.setdefault(name, path)
    return index


def _decompress(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".ko"):
        return data
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(data)
    if path.name.endswith(".ko.gz"):
        return gzip.decompress(data)
    if path.name.endswith(".ko.zst"):
        zstd = shutil.which("zstd")
        if not zstd:
            raise InitramfsError(f"{path}: needs the zstd tool to decompress ('make setup')")
        proc = subprocess.run([zstd, "-d", "-c", str(path)], capture_output=True, check=False)
        if proc.returncode != 0:
            raise InitramfsError(f"{path}: zstd could not decompress it")
        return proc.stdout
    raise InitramfsError(f"{path}: unknown module compression")


def _depends(name: str, image: bytes) -> list[str]:
    try:
        section = ELFFile(io.BytesIO(image)).get_section_by_name(".modinfo")
    except ELFError as exc:
        raise InitramfsError(f"module {name}: not an ELF object ({exc})") from None
    if section is None:
        raise InitramfsError(f"module {name}: no .modinfo section")
    for entry in section.data().split(b"\0"):
        if entry.startswith(b"depends="):
            value = entry[len(b"depends=") :].decode()
            return [d.replace("-", "_") for d in value.split(",") if d]
    return []


def module_closure(modules: Path, roots: tuple[str, ...] = ROOT_MODULES) -> list[tuple[str, bytes]]:
    """The modules to insmod, dependencies first, as (file name, decompressed image)."""
    index = _index_modules(modules)
    ordered: list[tuple[str, bytes]] = []
    seen: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in chain:
            raise InitramfsError(f"module dependency loop: {' -> '.join((*chain, name))}")
        path = index.get(name)
        if path is None:
            if name in roots:
                seen.add(name)
                return
            raise InitramfsError(f"{modules}: module {name} needed by {chain[-1]} is missing")
        image = _decompress(path)
        for dep in _depends(name, image):
            visit(dep, (*chain, name))
        seen.add(name)
        ordered.append((f"{name}.ko", image))

    for root in roots:
        visit(root, ())
    return ordered


class _Cpio:
    """A writer of the ``newc`` cpio format the kernel unpacks as an initramfs."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.ino = 1

    def _entry(
        self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)
    ) -> None:
        encoded = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, *rdev, len(encoded), 0)
        header = b"070701" + b"".join(b"%08X" % value for value in fields)
        self.out.write(header + encoded)
        self.out.write(b"\0" * (-(len(header) + len(encoded)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))
        self.ino += 1

    def directory(self, name: str) -> None:
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | mode, data)

    def char_device(self, name: str, major: int, minor: int) -> None:
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        self.out.write(b"\0" * (-self.out.tell() % 512))
        return self.out.getvalue()


def build(kernel: Kernel) -> bytes:
    """The initramfs image (an uncompressed newc cpio) for ``kernel``."""
    if kernel.modules is None:
        raise InitramfsError(f"{kernel.name}: the host kernel boots no initramfs")
    modules = module_closure(kernel.modules)
    cpio = _Cpio()
    for name in ("bin", "dev", "proc", "sys", "modules", "host"):
        cpio.directory(name)
    cpio.file("bin/busybox", busybox().read_bytes(), 0o755)
    cpio.symlink("bin/sh", "busybox")
    cpio.char_device("dev/console", 5, 1)
    cpio.char_device("dev/null", 1, 3)
    cpio.file("init", INIT_SCRIPT.encode(), 0o755)
    for file, image in modules:
        cpio.file(f"modules/{file}", image)
    cpio.file("modules/order", "".join(f"{file}\n" for file, _ in modules).encode())
    return cpio.finish()


def initramfs_for(kernel: Kernel) -> Path:
    """The cached initramfs of ``kernel``; rebuilt when the init script or busybox change."""
    if kernel.modules is None:
        raise InitramfsError(f"{kernel.name}: the host kernel boots no initramfs")
    digest = hashlib.sha256(INIT_SCRIPT.encode() + busybox().read_bytes()).hexdigest()[:12]
    path = kernel.modules / f"initramfs-kptrdoc-{digest}.cpio"
    if path.is_file():
        return path
    for old in path.parent.glob("initramfs-kptrdoc-*.cpio"):
        if old.name != path.name:  # another process may have just built this very one
            old.unlink(missing_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(build(kernel))
    tmp.replace(path)
    return path
