"""__msg_on and __failure_on, checked on the running kernel: its release decides what applies.

The ranges are written relative to the host's own version, so the same
tests prove the logic on whatever kernel runs them: a range that excludes
the host is ignored, one that includes it is enforced and can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness_support import run_pytest, write_sample

from kptrdoc.expectations import parse_tags
from kptrdoc.kernel_range import (
    KernelRange,
    RangeError,
    host_version,
    in_range,
    release_version,
    split_ranged_tag,
)

HOST = ".".join(str(n) for n in host_version()[:2])  # e.g. "6.18"
BELOW = f"<{HOST}"  # excludes the host
ABOVE = f">{HOST}"  # excludes the host too
AT = HOST  # includes the host: every HOST.y
FROM = f">={HOST}"  # includes the host

# an unchecked packet read: every kernel rejects it with "invalid access to packet"
BAD = "{ return *(int *)(long)ctx->data; }"
GOOD = "{ return XDP_PASS; }"
WRONG = "no verifier ever says this"

CASES = f"""
SEC("xdp") __failure __msg("invalid access to packet") __msg_on("{BELOW}", "{WRONG}")
int msg_on_below_host_is_ignored(struct xdp_md *ctx) {BAD}

SEC("xdp") __failure __msg("invalid access to packet") __msg_on("{ABOVE}", "{WRONG}")
int msg_on_above_host_is_ignored(struct xdp_md *ctx) {BAD}

SEC("xdp") __failure __msg("invalid access to packet") __msg_on("{AT}", "{WRONG}")
int msg_on_host_is_enforced(struct xdp_md *ctx) {BAD}

SEC("xdp") __failure __msg("{WRONG}") __msg_on("{FROM}", "invalid access to packet")
int msg_on_host_replaces_plain_msg(struct xdp_md *ctx) {BAD}

SEC("xdp") __failure __msg_on("{FROM}", "R1 offset is outside of the packet")
__msg_on("{FROM}", "invalid access to packet")
int msg_on_host_in_order_wrong(struct xdp_md *ctx) {BAD}

SEC("xdp") __failure_on("{FROM}") __msg("invalid access to packet")
int failure_on_host_rejected(struct xdp_md *ctx) {BAD}

SEC("xdp") __failure_on("{AT}") __msg("invalid access to packet")
int failure_on_host_but_loads(struct xdp_md *ctx) {GOOD}

SEC("xdp") __failure_on("{FROM}") __msg("{WRONG}")
int failure_on_host_wrong_msg(struct xdp_md *ctx) {BAD}

SEC("xdp") __failure_on("{BELOW}") __msg("{WRONG}")
int failure_on_older_loads_here(struct xdp_md *ctx) {GOOD}

SEC("xdp") __failure_on("{BELOW}") __failure_on("{ABOVE}")
int failure_on_elsewhere_but_rejected(struct xdp_md *ctx) {BAD}

SEC("xdp") __failure_on("latest")
int failure_on_bad_range(struct xdp_md *ctx) {GOOD}

SEC("xdp") __failure __failure_on("{AT}")
int failure_and_failure_on(struct xdp_md *ctx) {BAD}

SEC("xdp") __success __msg_on("{AT}", "invalid access to packet")
int msg_on_with_success(struct xdp_md *ctx) {GOOD}
"""


def test_ranges_are_applied_on_the_host_kernel(kernel: None, tmp_path: Path) -> None:
    write_sample(tmp_path, "ranges.bpf.c", CASES)
    run = run_pytest("--strict-messages", str(tmp_path), cwd=tmp_path)
    name = "ranges.bpf.c::"
    assert run.outcomes == {
        name + "msg_on_below_host_is_ignored": "PASSED",
        name + "msg_on_above_host_is_ignored": "PASSED",
        name + "msg_on_host_is_enforced": "FAILED",
        name + "msg_on_host_replaces_plain_msg": "PASSED",
        name + "msg_on_host_in_order_wrong": "FAILED",
        name + "failure_on_host_rejected": "PASSED",
        name + "failure_on_host_but_loads": "FAILED",
        name + "failure_on_host_wrong_msg": "FAILED",
        name + "failure_on_older_loads_here": "PASSED",
        name + "failure_on_elsewhere_but_rejected": "FAILED",
        name + "failure_on_bad_range": "ERROR",
        name + "failure_and_failure_on": "ERROR",
        name + "msg_on_with_success": "ERROR",
    }, run.output
    assert run.returncode == 1
    assert f'__msg("{WRONG}") is not in the verifier log' in run.output
    assert f'__failure_on("{AT}") on this kernel means __failure' in run.output
    assert f'__failure_on("{BELOW}") __failure_on("{ABOVE}") on this kernel means __success' in (
        run.output
    )
    assert "bad kernel range 'latest'" in run.output or "kptrdoc:failure@latest" in run.output
    assert "both __failure and __failure_on" in run.output
    assert "__msg_on(...) needs __failure or __failure_on" in run.output
    assert "Traceback" not in run.output


def test_resolve_applies_the_annotations_to_one_kernel() -> None:
    expect = parse_tags(
        ["kptrdoc:failure@<7", "kptrdoc:msg=plain", "kptrdoc:msg@>=7=new", "kptrdoc:msg@6.12=old"]
    )
    assert expect.problem() == ""
    older, host, newer = (
        expect.resolve((6, 12, 1)),
        expect.resolve((6, 18)),
        expect.resolve((7, 2, 13)),
    )
    assert (older.verdict, older.msgs, older.ranged) == ("failure", ("old",), True)
    assert (host.verdict, host.msgs) == ("failure", ("plain",))
    assert (newer.verdict, newer.msgs) == ("success", ())
    plain = parse_tags(["kptrdoc:failure", "kptrdoc:msg=a"]).resolve((7, 2))
    assert plain.verdict == "failure" and plain.msgs == ("a",) and not plain.ranged


@pytest.mark.parametrize(
    ("version", "spec", "inside"),
    [
        ((6, 18, 44), "<7", True),
        ((7, 2, 13), "<7", False),
        ((6, 12, 117), "6.12", True),
        ((6, 1, 176), "6.12", False),
        ((6, 12, 117), "<=6.12", True),
        ((6, 13), "<=6.12", False),
        ((7, 0), ">=7", True),
        ((6, 18, 44), ">6.18", False),
        ((6, 18, 44), "==6.18.44", True),
    ],
)
def test_in_range(version: tuple[int, ...], spec: str, inside: bool) -> None:
    assert in_range(version, spec) is inside


def test_ranges_and_releases_parse_strictly() -> None:
    assert release_version("6.18.44-fc-v657") == (6, 18, 44)
    assert release_version("7.2.13+deb14-amd64") == (7, 2, 13)
    assert release_version("6.1.0-50-amd64") == (6, 1, 0)
    assert str(KernelRange.parse(">=7")) == ">=7" and str(KernelRange.parse("6.12")) == "6.12"
    for bad in ("latest", "=>7", "<", "6.12.1.1", "v6.1"):
        with pytest.raises(RangeError):
            KernelRange.parse(bad)
    tag = split_ranged_tag(">=7")
    assert tag is None
    tag = split_ranged_tag("msg@>=7=R1 has x=1")
    assert tag is not None and (tag.key, tag.range, tag.text) == ("msg", ">=7", "R1 has x=1")
    tag = split_ranged_tag("failure@<=6.12")
    assert tag is not None and (tag.key, tag.range, tag.text) == ("failure", "<=6.12", None)
    assert split_ranged_tag("failure@<7=text") is None and split_ranged_tag("msg@<7") is None
