// SPDX-License-Identifier: GPL-2.0
/*
 * __arg_nullable: a global function whose trusted task argument is
 * optional. The caller hands over the result of bpf_task_from_pid() as it
 * is, NULL or not; the function checks it once, for all its callers.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

/* kfuncs of kernel/bpf/helpers.c */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} forks SEC(".maps");

/* count a fork against @leader, if there is one */
__noinline int note_fork(struct task_struct *leader __arg_trusted __arg_nullable)
{
	u64 *n;

	if (!leader)		/* the body, not the caller, handles NULL */
		return 0;
	n = bpf_task_storage_get(&forks, leader, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("pass a task lookup that may have failed straight to a global function with an __arg_nullable argument")
int BPF_PROG(count_forks_per_process, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *leader;

	/* the thread group leader of the forking process, with a reference */
	leader = bpf_task_from_pid(bpf_get_current_pid_tgid() >> 32);
	note_fork(leader);
	if (leader)
		bpf_task_release(leader);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
