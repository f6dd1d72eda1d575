// SPDX-License-Identifier: GPL-2.0
/*
 * Mistakes around __arg_trusted with referenced tasks from the
 * bpf_task_from_pid() kfunc (in a file of their own: libbpf resolves the
 * kfuncs for the whole object, and older kernels may lack them).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} forks SEC(".maps");

__noinline int note_fork(struct task_struct *parent __arg_trusted)
{
	u64 *n;

	n = bpf_task_storage_get(&forks, parent, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("ptr_or_null_ expected=ptr_, trusted_ptr_, rcu_ptr_")
__msg("Caller passes invalid args into func#1 ('note_fork')")
__description("an __arg_trusted argument is never NULL: check what bpf_task_from_pid() returned (or add __arg_nullable)")
int BPF_PROG(trusted_maybe_null, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *leader;
	int ret;

	leader = bpf_task_from_pid(bpf_get_current_pid_tgid() >> 32);
	ret = note_fork(leader);	/* the lookup may have failed */
	if (leader)
		bpf_task_release(leader);
	return ret;
}

/* meant as "count, then let go": but the function only borrows the task */
__noinline int note_fork_and_release(struct task_struct *t __arg_trusted)
{
	note_fork(t);
	bpf_task_release(t);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("bpf_task_release expects") __msg("PTR_TO_BTF_ID")
__description("a global function borrows a trusted pointer: it cannot release the caller's reference")
int BPF_PROG(trusted_release_in_callee, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *leader;

	leader = bpf_task_from_pid(bpf_get_current_pid_tgid() >> 32);
	if (!leader)
		return 0;
	note_fork_and_release(leader);
	bpf_task_release(leader);	/* the caller's reference stays the caller's */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
