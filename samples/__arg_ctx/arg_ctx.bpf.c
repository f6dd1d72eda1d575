// SPDX-License-Identifier: GPL-2.0
/*
 * __arg_ctx: a global function that needs the program's context. Helpers
 * such as bpf_perf_event_output() take the context as their first argument;
 * a global function that calls them must receive it as a parameter, and
 * __arg_ctx tells the verifier that a plain void * parameter is the context.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct fork_event {
	u32 parent_pid;
	u32 child_pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

/* global: verified once; ctx is whatever context the calling program has */
__noinline int report_fork(void *ctx __arg_ctx, u32 parent_pid, u32 child_pid)
{
	struct fork_event e = {
		.parent_pid = parent_pid,
		.child_pid = child_pid,
	};

	bpf_get_current_comm(e.comm, sizeof(e.comm));
	/* without a reader on this CPU the event is dropped: that is fine */
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("hand the program context to a global function that emits a perf event")
int BPF_PROG(on_fork, struct task_struct *task, u64 clone_flags)
{
	/* BPF_PROG names the raw context "ctx" */
	return report_fork(ctx, bpf_get_current_pid_tgid() >> 32, task->pid);
}

char LICENSE[] SEC("license") = "GPL";
