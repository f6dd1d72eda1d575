// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_htons: a 16-bit value from the CPU's byte order to the network's
 * (big-endian). The test run gives the program a UDP packet from port
 * 4242 to port 4243: a port held in a variable is converted at run time
 * (one byte-swap instruction on a little-endian target), a constant one by
 * the compiler. Built for this machine, for big-endian BPF and for cpu v4
 * (bswap).
 */
// kptrdoc: build
// kptrdoc: build target=bpfeb
// kptrdoc: build cpu=v4
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "kptrdoc.h"

__u16 source_port = 4242;	/* a port as the program knows it */
int source_matches = -1;	/* read back by user space */
int dest_matches = -1;

SEC("xdp")
__success __run("test_run") __run_check("source_matches", "1") __run_check("dest_matches", "1")
__description("the packet's ports compared with a variable and a constant, each in network order")
int ports(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct udphdr *udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);

	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	source_matches = udp->source == bpf_htons(source_port);
	dest_matches = udp->dest == bpf_htons(4243);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
