"""Which program type and attach type libbpf 1.7 infers from a ``SEC`` name.

libbpf walks a fixed list of section prefixes in order and takes the first
that matches. An entry ending in ``/`` matches any name that starts with it,
an entry ending in ``+`` matches either the bare word or the word followed by
``/`` and anything, and any other entry must equal the name. A leading ``?``
(autoload off) is not part of the name libbpf matches.

The table below restates the facts of libbpf 1.7.0's list; order matters.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProgramKind:
    prog_type: str  # "BPF_PROG_TYPE_XDP"
    attach_type: str | None  # "BPF_XDP"; None when libbpf passes 0
    sleepable: bool


# (section pattern, program type without BPF_PROG_TYPE_, attach type without BPF_, sleepable)
_S = True
_TABLE: tuple[tuple[str, str, str | None, bool], ...] = (
    ("socket", "SOCKET_FILTER", None, False),
    ("sk_reuseport/migrate", "SK_REUSEPORT", "SK_REUSEPORT_SELECT_OR_MIGRATE", False),
    ("sk_reuseport", "SK_REUSEPORT", "SK_REUSEPORT_SELECT", False),
    ("kprobe+", "KPROBE", None, False),
    ("uprobe+", "KPROBE", None, False),
    ("uprobe.s+", "KPROBE", None, _S),
    ("kretprobe+", "KPROBE", None, False),
    ("uretprobe+", "KPROBE", None, False),
    ("uretprobe.s+", "KPROBE", None, _S),
    ("kprobe.multi+", "KPROBE", "TRACE_KPROBE_MULTI", False),
    ("kretprobe.multi+", "KPROBE", "TRACE_KPROBE_MULTI", False),
    ("kprobe.session+", "KPROBE", "TRACE_KPROBE_SESSION", False),
    ("uprobe.multi+", "KPROBE", "TRACE_UPROBE_MULTI", False),
    ("uretprobe.multi+", "KPROBE", "TRACE_UPROBE_MULTI", False),
    ("uprobe.session+", "KPROBE", "TRACE_UPROBE_SESSION", False),
    ("uprobe.multi.s+", "KPROBE", "TRACE_UPROBE_MULTI", _S),
    ("uretprobe.multi.s+", "KPROBE", "TRACE_UPROBE_MULTI", _S),
    ("uprobe.session.s+", "KPROBE", "TRACE_UPROBE_SESSION", _S),
    ("ksyscall+", "KPROBE", None, False),
    ("kretsyscall+", "KPROBE", None, False),
    ("usdt+", "KPROBE", None, False),
    ("usdt.s+", "KPROBE", None, _S),
    ("tc/ingress", "SCHED_CLS", "TCX_INGRESS", False),
    ("tc/egress", "SCHED_CLS", "TCX_EGRESS", False),
    ("tcx/ingress", "SCHED_CLS", "TCX_INGRESS", False),
    ("tcx/egress", "SCHED_CLS", "TCX_EGRESS", False),
    ("tc", "SCHED_CLS", None, False),
    ("classifier", "SCHED_CLS", None, False),
    ("action", "SCHED_ACT", None, False),
    ("netkit/primary", "SCHED_CLS", "NETKIT_PRIMARY", False),
    ("netkit/peer", "SCHED_CLS", "NETKIT_PEER", False),
    ("tracepoint+", "TRACEPOINT", None, False),
    ("tp+", "TRACEPOINT", None, False),
    ("raw_tracepoint+", "RAW_TRACEPOINT", None, False),
    ("raw_tp+", "RAW_TRACEPOINT", None, False),
    ("raw_tracepoint.w+", "RAW_TRACEPOINT_WRITABLE", None, False),
    ("raw_tp.w+", "RAW_TRACEPOINT_WRITABLE", None, False),
    ("tp_btf+", "TRACING", "TRACE_RAW_TP", False),
    ("fentry+", "TRACING", "TRACE_FENTRY", False),
    ("fmod_ret+", "TRACING", "MODIFY_RETURN", False),
    ("fexit+", "TRACING", "TRACE_FEXIT", False),
    ("fentry.s+", "TRACING", "TRACE_FENTRY", _S),
    ("fmod_ret.s+", "TRACING", "MODIFY_RETURN", _S),
    ("fexit.s+", "TRACING", "TRACE_FEXIT", _S),
    ("fsession+", "TRACING", "TRACE_FSESSION", False),
    ("fsession.s+", "TRACING", "TRACE_FSESSION", _S),
    ("freplace+", "EXT", None, False),
    ("lsm+", "LSM", "LSM_MAC", False),
    ("lsm.s+", "LSM", "LSM_MAC", _S),
    ("lsm_cgroup+", "LSM", "LSM_CGROUP", False),
    ("iter+", "TRACING", "TRACE_ITER", False),
    ("iter.s+", "TRACING", "TRACE_ITER", _S),
    ("syscall", "SYSCALL", None, _S),
    ("xdp.frags/devmap", "XDP", "XDP_DEVMAP", False),
    ("xdp/devmap", "XDP", "XDP_DEVMAP", False),
    ("xdp.frags/cpumap", "XDP", "XDP_CPUMAP", False),
    ("xdp/cpumap", "XDP", "XDP_CPUMAP", False),
    ("xdp.frags", "XDP", "XDP", False),
    ("xdp", "XDP", "XDP", False),
    ("perf_event", "PERF_EVENT", None, False),
    ("lwt_in", "LWT_IN", None, False),
    ("lwt_out", "LWT_OUT", None, False),
    ("lwt_xmit", "LWT_XMIT", None, False),
    ("lwt_seg6local", "LWT_SEG6LOCAL", None, False),
    ("sockops", "SOCK_OPS", "CGROUP_SOCK_OPS", False),
    ("sk_skb/stream_parser", "SK_SKB", "SK_SKB_STREAM_PARSER", False),
    ("sk_skb/stream_verdict", "SK_SKB", "SK_SKB_STREAM_VERDICT", False),
    ("sk_skb/verdict", "SK_SKB", "SK_SKB_VERDICT", False),
    ("sk_skb", "SK_SKB", None, False),
    ("sk_msg", "SK_MSG", "SK_MSG_VERDICT", False),
    ("lirc_mode2", "LIRC_MODE2", "LIRC_MODE2", False),
    ("flow_dissector", "FLOW_DISSECTOR", "FLOW_DISSECTOR", False),
    ("cgroup_skb/ingress", "CGROUP_SKB", "CGROUP_INET_INGRESS", False),
    ("cgroup_skb/egress", "CGROUP_SKB", "CGROUP_INET_EGRESS", False),
    ("cgroup/skb", "CGROUP_SKB", None, False),
    ("cgroup/sock_create", "CGROUP_SOCK", "CGROUP_INET_SOCK_CREATE", False),
    ("cgroup/sock_release", "CGROUP_SOCK", "CGROUP_INET_SOCK_RELEASE", False),
    ("cgroup/sock", "CGROUP_SOCK", "CGROUP_INET_SOCK_CREATE", False),
    ("cgroup/post_bind4", "CGROUP_SOCK", "CGROUP_INET4_POST_BIND", False),
    ("cgroup/post_bind6", "CGROUP_SOCK", "CGROUP_INET6_POST_BIND", False),
    ("cgroup/bind4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_BIND", False),
    ("cgroup/bind6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_BIND", False),
    ("cgroup/connect4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_CONNECT", False),
    ("cgroup/connect6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_CONNECT", False),
    ("cgroup/connect_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_CONNECT", False),
    ("cgroup/sendmsg4", "CGROUP_SOCK_ADDR", "CGROUP_UDP4_SENDMSG", False),
    ("cgroup/sendmsg6", "CGROUP_SOCK_ADDR", "CGROUP_UDP6_SENDMSG", False),
    ("cgroup/sendmsg_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_SENDMSG", False),
    ("cgroup/recvmsg4", "CGROUP_SOCK_ADDR", "CGROUP_UDP4_RECVMSG", False),
    ("cgroup/recvmsg6", "CGROUP_SOCK_ADDR", "CGROUP_UDP6_RECVMSG", False),
    ("cgroup/recvmsg_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_RECVMSG", False),
    ("cgroup/getpeername4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_GETPEERNAME", False),
    ("cgroup/getpeername6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_GETPEERNAME", False),
    ("cgroup/getpeername_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_GETPEERNAME", False),
    ("cgroup/getsockname4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_GETSOCKNAME", False),
    ("cgroup/getsockname6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_GETSOCKNAME", False),
    ("cgroup/getsockname_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_GETSOCKNAME", False),
    ("cgroup/sysctl", "CGROUP_SYSCTL", "CGROUP_SYSCTL", False),
    ("cgroup/getsockopt", "CGROUP_SOCKOPT", "CGROUP_GETSOCKOPT", False),
    ("cgroup/setsockopt", "CGROUP_SOCKOPT", "CGROUP_SETSOCKOPT", False),
    ("cgroup/dev", "CGROUP_DEVICE", "CGROUP_DEVICE", False),
    ("struct_ops+", "STRUCT_OPS", None, False),
    ("struct_ops.s+", "STRUCT_OPS", None, _S),
    ("sk_lookup", "SK_LOOKUP", "SK_LOOKUP", False),
    ("netfilter", "NETFILTER", "NETFILTER", False),
)


def _matches(pattern: str, name: str) -> bool:
    if pattern.endswith("/"):
        return name.startswith(pattern)
    if pattern.endswith("+"):
        word = pattern[:-1]
        return name == word or name.startswith(word + "/")
    return name == pattern


def program_kind(section: str) -> ProgramKind | None:
    """The kind libbpf 1.7 gives a program in ``section``; ``None`` if it knows none."""
    name = section[1:] if section.startswith("?") else section
    for pattern, prog_type, attach_type, sleepable in _TABLE:
        if _matches(pattern, name):
            return ProgramKind(
                "BPF_PROG_TYPE_" + prog_type,
                "BPF_" + attach_type if attach_type else None,
                sleepable,
            )
    return None
