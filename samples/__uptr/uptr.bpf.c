// SPDX-License-Identifier: GPL-2.0
/*
 * __uptr: share memory between a process and BPF without a map lookup on
 * the user side. A process registers a pointer to its own struct in its
 * task-local storage (bpf_map_update_elem() on the task storage map with
 * a pidfd); the kernel pins that user page, and programs running for the
 * task read and write the struct directly. Here every fork a process makes
 * is counted straight into its registered struct, and into global totals.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

#define CLONE_THREAD 0x00010000

/* lives in the registering process's memory; must not cross a page */
struct fork_counts {
	u64 processes;
	u64 threads;
};

struct task_value {
	struct fork_counts __uptr *counts;	/* set by user space only */
};

/* system-wide totals, for whoever loaded the program (this global also
 * makes clang emit struct fork_counts in full: see the README)
 */
struct fork_counts all_forks;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_value);
} registered SEC(".maps");

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("count each fork into a struct that the forking process registered through a __uptr field")
int BPF_PROG(count_into_user_memory, struct task_struct *task, u64 clone_flags)
{
	struct fork_counts *counts;
	struct task_value *v;

	if (clone_flags & CLONE_THREAD)
		__sync_fetch_and_add(&all_forks.threads, 1);
	else
		__sync_fetch_and_add(&all_forks.processes, 1);

	/* no F_CREATE: only processes that registered have an entry */
	v = bpf_task_storage_get(&registered, bpf_get_current_task_btf(), NULL, 0);
	if (!v)
		return 0;
	counts = v->counts;
	if (!counts)
		return 0;
	/* a plain memory access into the process's own page */
	if (clone_flags & CLONE_THREAD)
		counts->threads++;
	else
		counts->processes++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
