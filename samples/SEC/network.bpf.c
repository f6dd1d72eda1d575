// SPDX-License-Identifier: GPL-2.0
/*
 * SEC for networking programs: the section selects the program type, and
 * with it the context the program gets (struct xdp_md or struct __sk_buff),
 * the helpers it may call and the meaning of its return value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

#define TC_ACT_OK 0

u64 xdp_packets, tc_packets, tcx_packets, socket_packets, egress_bytes;

/* BPF_PROG_TYPE_XDP: the driver's receive path, before an skb exists */
SEC("xdp")
__success
__description("xdp: an XDP program, given struct xdp_md and returning an XDP_* action")
int count_xdp(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&xdp_packets, 1);
	return XDP_PASS;
}

/* BPF_PROG_TYPE_SCHED_CLS for the tc "bpf" classifier (netlink attach) */
SEC("tc")
__success
__description("tc: a traffic-control classifier, given struct __sk_buff and returning a TC_ACT_* verdict")
int count_tc(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tc_packets, 1);
	return TC_ACT_OK;
}

/* the same program type, attached through a tcx link (kernel 6.6 and later) */
SEC("tcx/ingress")
__success
__description("tcx/ingress: a SCHED_CLS program with the tcx ingress attach type")
int count_tcx(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tcx_packets, 1);
	return TC_ACT_OK;
}

/* BPF_PROG_TYPE_SOCKET_FILTER: returns how many bytes of the packet to keep */
SEC("socket")
__success
__description("socket: a socket filter, returning how many bytes of each packet the socket receives")
int keep_all(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&socket_packets, 1);
	return skb->len;
}

/* BPF_PROG_TYPE_CGROUP_SKB, attach type BPF_CGROUP_INET_EGRESS: 1 allows */
SEC("cgroup_skb/egress")
__success
__description("cgroup_skb/egress: a cgroup packet filter on egress, returning 1 to allow and 0 to drop")
int account_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress_bytes, skb->len);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
