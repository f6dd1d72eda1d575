// SPDX-License-Identifier: GPL-2.0
/*
 * __arg_trusted: a global function that takes a kernel object, here a
 * task, and uses it where only a valid object will do: as the owner of
 * task-local storage. The tag lets the function's body treat the pointer
 * as trusted; every caller must pass a pointer the verifier trusts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

#define CLONE_THREAD 0x00010000

struct fork_counts {
	u64 processes;
	u64 threads;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct fork_counts);
} forks SEC(".maps");

/* global, verified once: @parent is a live task, never NULL */
__noinline int note_fork(struct task_struct *parent __arg_trusted, u64 clone_flags)
{
	struct fork_counts *c;

	c = bpf_task_storage_get(&forks, parent, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return 0;
	if (clone_flags & CLONE_THREAD)
		__sync_fetch_and_add(&c->threads, 1);
	else
		__sync_fetch_and_add(&c->processes, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("count each task's forks in task-local storage from a global function taking a trusted task")
int BPF_PROG(count_forks, struct task_struct *task, u64 clone_flags)
{
	/* the forking task: bpf_get_current_task_btf() returns a trusted pointer */
	return note_fork(bpf_get_current_task_btf(), clone_flags);
}

char LICENSE[] SEC("license") = "GPL";
