// SPDX-License-Identifier: GPL-2.0
/*
 * __arg_ctx in an XDP program: sample one packet in a hundred to user
 * space. bpf_perf_event_output() copies the packet's first bytes when it
 * gets the XDP context, so the global function that does the sampling
 * takes the context as a tagged void * parameter.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

#define SAMPLE_BYTES 64

struct sample_meta {
	u32 ifindex;
	u32 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} samples SEC(".maps");

__noinline int sample_packet(void *ctx __arg_ctx, u32 ifindex, u32 len)
{
	struct sample_meta meta = { .ifindex = ifindex, .len = len };
	u64 bytes = len < SAMPLE_BYTES ? len : SAMPLE_BYTES;

	/* the upper 32 bits of the flags: how many packet bytes to append */
	return bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU | bytes << 32,
				     &meta, sizeof(meta));
}

SEC("xdp")
__success
__description("sample packets from a global function that receives the XDP context through __arg_ctx")
int xdp_sampler(struct xdp_md *ctx)
{
	u32 len = ctx->data_end - ctx->data;

	if (bpf_get_prandom_u32() % 100 == 0)
		sample_packet(ctx, ctx->ingress_ifindex, len);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
