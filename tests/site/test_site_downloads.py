"""Every page's download, from the built site, as a reader uses it: extracted into an empty
directory, built with ``make`` and the tools its README names, and its loaders run on this
machine's kernel, or in the newest recorded kernel under QEMU where this one refuses the
program (kprobes, arena maps). Independent checks: the loader's exit status, what it
prints against the sample's annotations (read by the object model), and a loader with a
wrong expectation that must fail."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPO, skip_or_fail

from kptrdoc import toolchain

BUILD_SECONDS = 600
RUN_SECONDS = 120


@dataclass
class Built:
    name: str
    folder: Path
    stems: list[str]
    make: subprocess.CompletedProcess
    runs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)


def _make_args(folder: Path) -> list[str]:
    """``make`` with the tools the README names: the pinned libbpf by its prefix, a bpftool
    new enough for the objects when the Makefile asks for one, sys/sdt.h for USDT."""
    makefile = (folder / "Makefile").read_text()
    args = [f"LIBBPF={toolchain.libbpf().so_path.parent.parent}"]
    need = re.search(r"^BPFTOOL_LIBBPF_MIN := (\S+)", makefile, re.M)
    if need:
        args.append(f"BPFTOOL={toolchain.bpftool_with_libbpf(need.group(1))}")
    if "SDT_INCLUDE" in makefile:
        args.append(f"SDT_INCLUDE={toolchain.sdt_include_dir()}")
    return args


def _build(archive: Path, root: Path) -> Built:
    name = archive.name.removesuffix(".tar.gz")
    empty = root / name
    empty.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(empty, filter="data")
    folder = empty / name
    makefile = (folder / "Makefile").read_text()
    stems = re.search(r"^APPS := (.*)$", makefile, re.M)
    assert stems, f"{archive.name}: no APPS in its Makefile"
    proc = subprocess.run(["make", *_make_args(folder)], cwd=folder, capture_output=True,
                          text=True, timeout=BUILD_SECONDS, check=False)  # fmt: skip
    return Built(name, folder, stems.group(1).split(), proc)


@pytest.fixture(scope="module")
def downloads(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Built]:
    archives = sorted((built_site / "downloads").glob("*.tar.gz"))
    root = tmp_path_factory.mktemp("downloads")
    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        return list(pool.map(lambda a: _build(a, root), archives))


def test_every_page_with_a_run_links_its_download(built_site: Path) -> None:
    names = {p.name.removesuffix(".tar.gz") for p in (built_site / "downloads").glob("*.tar.gz")}
    assert names == {folder for folder, _ in _expected_checks()}
    assert "__kptr" in names
    for name in names:
        page = (built_site / "macros" / name / "index.html").read_text()
        assert f'href="../../downloads/{name}.tar.gz"' in page, name


def test_the_listings_have_no_harness_annotations(downloads: list[Built]) -> None:
    for built in downloads:
        for src in built.folder.glob("*.bpf.c"):
            text = src.read_text()
            for annotation in ('"kptrdoc.h"', "__success", "__run(", "// kptrdoc:"):
                assert annotation not in text, (src, annotation)


def test_every_download_builds_with_make(downloads: list[Built]) -> None:
    failed = {b.name: (b.make.stderr or b.make.stdout)[-800:]
              for b in downloads if b.make.returncode}  # fmt: skip
    assert not failed, failed
    for built in downloads:
        warnings = [line for line in built.make.stderr.splitlines() if "warning:" in line]
        assert not warnings, (built.name, warnings[:3])
        for stem in built.stems:
            assert os.access(built.folder / stem, os.X_OK), (built.name, stem)


REFUSED = re.compile(r"the kernel did not (load|attach) it")


def test_every_download_compiles_with_debian_13s_bpftool(
    downloads: list[Built], tmp_path: Path
) -> None:
    """A Debian 13 reader's bpftool (7.5) writes a vmlinux.h with every kfunc's prototype: a
    download's own ``__ksym`` declaration of a kfunc must agree with it. Each download's BPF
    objects are made again, in a copy, with that bpftool writing vmlinux.h."""
    try:
        bpftool = toolchain.bpftool_release("7.5")
    except toolchain.ToolchainError as exc:
        skip_or_fail(str(exc))

    def remake(built: Built) -> tuple[Path, subprocess.CompletedProcess]:
        copy = tmp_path / built.name
        shutil.copytree(built.folder, copy)
        for old in [copy / "vmlinux.h", *copy.glob("*.bpf.o")]:
            old.unlink()
        objects = [f"{stem}.bpf.o" for stem in built.stems]
        args = [a for a in _make_args(copy) if not a.startswith("BPFTOOL=")]
        proc = subprocess.run(["make", *args, f"BPFTOOL={bpftool}", *objects],
                              cwd=copy, capture_output=True, text=True,
                              timeout=BUILD_SECONDS, check=False)  # fmt: skip
        return copy, proc

    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        done = list(pool.map(remake, [b for b in downloads if b.make.returncode == 0]))
    failed = [f"{copy.name}: {p.stderr[-400:]}" for copy, p in done if p.returncode != 0]
    assert not failed, "\n".join(failed)
    assert len(done) >= 50
    header = (done[0][0] / "vmlinux.h").read_text(errors="replace")
    assert "#ifndef BPF_NO_KFUNC_PROTOTYPES" in header  # the kfunc prototypes were there


def _host_runs(downloads: list[Built]) -> dict[tuple[str, str], subprocess.CompletedProcess]:
    out = {}
    for built in downloads:
        for stem in built.stems:
            out[(built.name, stem)] = subprocess.run(
                [f"./{stem}"], cwd=built.folder, capture_output=True, text=True,
                timeout=RUN_SECONDS, check=False,
            )  # fmt: skip
    return out


def _guest_runs(todo: list[tuple[Built, str]]) -> dict[tuple[str, str], tuple[int, str]]:
    """Run loaders in the newest recorded kernel, in one boot: (exit status, output)."""
    if not shutil.which("qemu-system-x86_64"):
        skip_or_fail("qemu-system-x86_64 is not installed: refused loaders cannot run")
    from kptrdoc.errors import KptrdocError
    from kptrdoc.matrix import vm
    from kptrdoc.matrix.kernels import resolve
    from kptrdoc.matrix.record import Record
    from kptrdoc.matrix.run import logs_dir, runs_dir

    record = Record.load(REPO / "samples" / "matrix.lock.json")
    try:
        kernels = resolve([k.suite for k in record.kernels], record.pins())
    except KptrdocError as exc:
        skip_or_fail(f"the matrix kernels are not available: {exc}")
    newest = max(kernels, key=lambda k: tuple(int(n) for n in re.findall(r"\d+", k.version)[:3]))
    run_dir = Path(os.path.realpath(runs_dir())) / f"downloads-{os.getpid()}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    lines = ["export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    for i, (built, stem) in enumerate(todo):
        lines.append(f"cd {built.folder} && ./{stem} > {run_dir}/{i}.out 2>&1; "
                     f"echo $? > {run_dir}/{i}.rc")  # fmt: skip
    (run_dir / "run.sh").write_text("\n".join(lines) + "\n")
    try:
        boot = vm.boot(newest, run_dir, logs_dir() / "downloads.console.log",
                       60 + 30 * len(todo))  # fmt: skip
        assert boot.error is None, boot.error
        out = {}
        for i, (built, stem) in enumerate(todo):
            rc = (run_dir / f"{i}.rc").read_text().strip()
            out[(built.name, stem)] = (int(rc), (run_dir / f"{i}.out").read_text())
        return out
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _expected_checks() -> dict[tuple[str, str], list[str]]:
    """(folder, program) -> its ``__run_check`` globals, from the object model."""
    from kptrdoc.compile import compile_main
    from kptrdoc.objects import load_object
    from kptrdoc.project.spec import example_sources

    out = {}
    for folder in sorted(p for p in (REPO / "samples").iterdir() if p.is_dir()):
        for src in example_sources(folder):
            for p in load_object(compile_main(src).path).programs:
                if p.expect.verdict == "success" and p.expect.runs:
                    out[(folder.name, p.name)] = [c.variable for c in p.expect.checks]
    return out


def _programs_in(output: str) -> dict[str, list[str]]:
    """Program -> the lines the loader printed for it."""
    found: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        match = re.match(r"(\w+) \(SEC\(\"", line)
        if match:
            current = match.group(1)
            found[current] = []
        elif current is not None and line.startswith("  "):
            found[current].append(line.strip())
    return found


def test_every_loader_runs_and_prints_what_the_page_expects(downloads: list[Built]) -> None:
    built_ok = [b for b in downloads if b.make.returncode == 0]
    assert built_ok
    host = _host_runs(built_ok)
    results = {key: (proc.returncode, proc.stdout + proc.stderr) for key, proc in host.items()}
    refused = [
        (b, s) for b in built_ok for s in b.stems
        if host[(b.name, s)].returncode == 2 and REFUSED.search(host[(b.name, s)].stderr)
    ]  # fmt: skip
    wrong_on_host = {k: v[1][-600:] for k, v in results.items() if v[0] not in (0, 2)}
    assert not wrong_on_host, wrong_on_host  # a wrong value is never the kernel's refusal
    if refused:
        results.update(_guest_runs(refused))
    failed = {k: v[1][-800:] for k, v in results.items() if v[0] != 0}
    assert not failed, failed
    expected = _expected_checks()
    seen_programs = set()
    for (name, _stem), (_rc, output) in results.items():
        for program, lines in _programs_in(output).items():
            seen_programs.add((name, program))
            ran = next((ln for ln in lines if ln.startswith("ran ")), "")
            assert re.fullmatch(r"ran [1-9]\d* time\(s\)", ran), (name, program, lines)
            values = [ln for ln in lines if re.match(r"\w+ = ", ln)]
            assert [ln.split(" = ", 1)[0] for ln in values] == expected[(name, program)], lines
            assert all(ln.endswith(" ok") for ln in values), lines
    assert seen_programs == set(expected)


def test_a_wrong_expectation_fails_the_loader(downloads: list[Built], tmp_path: Path) -> None:
    """The loader's own check can fail: the same download, expecting 2 where the program
    records 1, exits with 1 and says WRONG."""
    built = next(b for b in downloads if b.name == "bpf_htons")
    copy = tmp_path / "bpf_htons"
    shutil.copytree(built.folder, copy)
    loader = copy / "ports.c"
    text = loader.read_text()
    expects_one = '"source_matches", skel->data->source_matches, "1", 1LL'
    assert expects_one in text
    loader.write_text(text.replace(expects_one, expects_one.replace("1LL", "2LL")))
    (copy / "ports").unlink()
    subprocess.run(["make", *_make_args(copy)], cwd=copy, capture_output=True, check=True)
    proc = subprocess.run(["./ports"], cwd=copy, capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "source_matches = 1 (expected 1: 2) WRONG" in proc.stdout


def test_archives_are_reproducible(built_site: Path) -> None:
    from kptrdoc.project.render import archive, project_files
    from kptrdoc.project.spec import project

    found = project(REPO / "samples" / "__kptr", "__kptr")
    assert found is not None
    data = archive(found, project_files(found, "https://kptrdoc.github.io/kptrdoc/macros/__kptr/"))
    assert data == (built_site / "downloads" / "__kptr.tar.gz").read_bytes()


def test_loaders_compile_with_the_oldest_libbpf_their_readme_accepts(
    downloads: list[Built],
) -> None:
    """The README's "libbpf X or newer", held against real older headers: each loader, with
    its skeleton, compiles against the oldest Debian libbpf headers kptrdoc has (1.1.2,
    1.4.6, 1.5.0) that are at least X."""
    from kptrdoc.facts import release_tuple

    older = [r for r in toolchain.header_releases() if r.source != "pinned"]
    checked = 0
    for built in downloads:
        makefile = (built.folder / "Makefile").read_text()
        need = re.search(r"^LIBBPF_MIN := (\S+)", makefile, re.M)
        assert need, built.name
        sdt = ["-I", str(toolchain.sdt_include_dir())] if "SDT_INCLUDE" in makefile else []
        oldest = next(
            (r for r in older if release_tuple(r.version) >= release_tuple(need.group(1))), None
        )
        if oldest is None:
            continue
        for stem in built.stems:
            proc = subprocess.run(
                ["cc", "-fsyntax-only", "-Wall", "-Werror", "-I", str(oldest.include_dir),
                 "-I", ".", *sdt, f"{stem}.c"],
                cwd=built.folder, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert proc.returncode == 0, (built.name, oldest.version, proc.stderr[-600:])
            checked += 1
    assert checked >= 50
