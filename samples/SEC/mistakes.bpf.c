// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with SEC: the section picks the program type, and the
 * verifier checks the program against that type's context, helpers, return
 * values and sleepability.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

u64 seen;
u32 last_priority;

SEC("xdp")
__failure __msg("invalid bpf_context access off=32 size=4")
__description("an xdp program gets struct xdp_md, not struct __sk_buff: skb fields are out of its context")
int xdp_reads_skb_field(struct __sk_buff *skb)
{
	last_priority = skb->priority;	/* offset 32: beyond the 24 bytes of xdp_md */
	return XDP_PASS;
}

SEC("xdp")
__failure __msg("program of this type cannot use helper bpf_skb_load_bytes#26")
__msg_on("<=6.1", "unknown func bpf_skb_load_bytes#26")
__description("helpers are granted per program type: bpf_skb_load_bytes() is for skb programs, not xdp")
int xdp_calls_skb_helper(struct xdp_md *ctx)
{
	u32 first_word = 0;

	bpf_skb_load_bytes(ctx, 0, &first_word, sizeof(first_word));
	seen = first_word;
	return XDP_PASS;
}

SEC("iter/task")
__failure __msg("At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]")
__msg_on("<=6.1", "At program exit the register R0 has value (0x2; 0x0) should have been in (0x0; 0x1)")
__description("each program type has its return values: an iterator returns 0 (go on) or 1 (stop)")
int iter_bad_return(struct bpf_iter__task *ctx)
{
	seen++;
	return 2;
}

SEC("tp_btf/sys_enter")
__failure __msg("helper call might sleep in a non-sleepable prog")
__msg_on("<=6.1", "unknown func bpf_copy_from_user#148")
__msg_on(">=7", "sleepable helper bpf_copy_from_user#148 in non-sleepable prog")
__description("tp_btf programs cannot sleep: bpf_copy_from_user() needs a sleepable section such as syscall")
int BPF_PROG(copy_user_in_tracepoint, struct pt_regs *regs, long id)
{
	char path[16];

	/* the second argument of the syscall, e.g. openat()'s file name */
	bpf_copy_from_user(path, sizeof(path), (void *)PT_REGS_PARM2(regs));
	seen = path[0];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
