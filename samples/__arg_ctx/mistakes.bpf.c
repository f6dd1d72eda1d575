// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes around __arg_ctx, each one a program the verifier of the
 * kernel running the tests must reject with the quoted message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct fork_event {
	u32 child_pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

__noinline int report_untagged(void *ctx, u32 child_pid)
{
	struct fork_event e = { .child_pid = child_pid };

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("arg#0 reference type('UNKNOWN ') size cannot be determined")
__msg("Caller passes invalid args into func#1 ('report_untagged')")
__description("without __arg_ctx a void * parameter is not the context: the verifier cannot tell what it points to")
int BPF_PROG(ctx_untagged, struct task_struct *task, u64 clone_flags)
{
	return report_untagged(ctx, task->pid);
}

/* copied from a tc program: its context type is struct __sk_buff */
__noinline int report_skb(struct __sk_buff *skb __arg_ctx, u32 child_pid)
{
	struct fork_event e = { .child_pid = child_pid };

	bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("arg#0 should be void pointer")
__description("the tagged type must be a context type of the program: a tracing program takes void *, not a tc program's struct __sk_buff")
int BPF_PROG(ctx_wrong_type, struct task_struct *task, u64 clone_flags)
{
	return report_skb((void *)ctx, task->pid);
}

__noinline int report_fork(void *ctx __arg_ctx, u32 child_pid)
{
	struct fork_event e = { .child_pid = child_pid };

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("expects pointer to ctx")
__description("the caller must pass the program's own context, not a buffer that looks like it")
int BPF_PROG(ctx_not_ctx, struct task_struct *task, u64 clone_flags)
{
	u64 fake[2] = {};

	return report_fork(fake, task->pid);
}

SEC("tp_btf/task_newtask")
__failure __msg("dereference of modified ctx ptr R1 off=8 disallowed")
__description("the context must be passed unmodified, not a pointer into it")
int BPF_PROG(ctx_offset, struct task_struct *task, u64 clone_flags)
{
	/* ctx[0] is task, ctx[1] is clone_flags */
	return report_fork(&ctx[1], task->pid);
}

char LICENSE[] SEC("license") = "GPL";
