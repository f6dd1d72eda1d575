// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_htonl and bpf_ntohl: 32-bit values between the CPU's byte order and
 * the network's (big-endian). The test run gives the program a UDP packet
 * from 10.0.0.1 to 10.0.0.2: the destination address is converted at run
 * time (one byte-swap instruction on a little-endian target), the source
 * address compared with a constant the compiler converts. Built for this
 * machine, for big-endian BPF and for cpu v4 (bswap).
 */
// kptrdoc: build
// kptrdoc: build target=bpfeb
// kptrdoc: build cpu=v4
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "kptrdoc.h"

__u32 daddr = 0;		/* read back by user space: 10.0.0.2 is 167772162 */
int saddr_is_10_0_0_1 = -1;

SEC("xdp")
__success __run("test_run") __run_check("daddr", "167772162")
__run_check("saddr_is_10_0_0_1", "1")
__description("the packet's destination address in host order, its source against a constant")
int addresses(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);

	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	daddr = bpf_ntohl(ip->daddr);
	saddr_is_10_0_0_1 = ip->saddr == bpf_htonl(0x0a000001);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
