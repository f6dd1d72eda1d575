// SPDX-License-Identifier: GPL-2.0
/*
 * SEC: the ELF section a program lives in tells libbpf its program type,
 * its attach type and, for most tracing types, what to attach it to. The
 * same event, a new task, seen through three kinds of tracepoint, plus a
 * task iterator and a syscall program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

u64 new_tasks_btf, new_tasks_raw, new_tasks_classic;
u32 last_pid;

/* BPF_PROG_TYPE_TRACING, attach type BPF_TRACE_RAW_TP: typed arguments */
SEC("tp_btf/task_newtask")
__success __run("fork")
__description("tp_btf/<tracepoint>: a BTF-typed tracepoint program, arguments readable directly")
int BPF_PROG(newtask_btf, struct task_struct *task, u64 clone_flags)
{
	__sync_fetch_and_add(&new_tasks_btf, 1);
	last_pid = task->pid;		/* a plain load: the verifier knows the type */
	return 0;
}

/* BPF_PROG_TYPE_RAW_TRACEPOINT: the same arguments as untyped u64 values */
SEC("raw_tp/task_newtask")
__success __run("fork")
__description("raw_tp/<tracepoint>: a raw tracepoint program, arguments read with BPF_CORE_READ")
int BPF_PROG(newtask_raw, struct task_struct *task, u64 clone_flags)
{
	__sync_fetch_and_add(&new_tasks_raw, 1);
	last_pid = BPF_CORE_READ(task, pid);	/* goes through bpf_probe_read_kernel() */
	return 0;
}

/* BPF_PROG_TYPE_TRACEPOINT: the tracepoint's trace-event record */
SEC("tp/sched/sched_process_fork")
__success
__description("tp/<category>/<name>: a classic tracepoint program reading the trace-event record")
int newtask_classic(struct trace_event_raw_sched_process_fork *ctx)
{
	__sync_fetch_and_add(&new_tasks_classic, 1);
	last_pid = ctx->child_pid;
	return 0;
}

/* BPF_PROG_TYPE_TRACING, attach type BPF_TRACE_ITER: one call per task */
SEC("iter/task")
__success
__description("iter/<target>: an iterator program, run once per object when user space reads the iterator")
int list_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task)	/* the last call, after the last task */
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%d %s\n", task->pid, task->comm);
	return 0;
}

/* BPF_PROG_TYPE_SYSCALL: sleepable, run on demand with BPF_PROG_RUN */
SEC("syscall")
__success
__description("syscall: a sleepable program user space runs with BPF_PROG_RUN, here to reset the counters")
int reset_counters(void *ctx)
{
	new_tasks_btf = new_tasks_raw = new_tasks_classic = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
