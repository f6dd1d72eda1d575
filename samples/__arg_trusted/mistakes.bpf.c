// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes around __arg_trusted, each one a program the verifier of
 * the kernel running the tests must reject with the quoted message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} forks SEC(".maps");

struct last_fork {
	struct task_struct __kptr_untrusted *parent;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct last_fork);
	__uint(max_entries, 1);
} last_fork SEC(".maps");

__noinline int note_fork(struct task_struct *parent __arg_trusted)
{
	u64 *n;

	n = bpf_task_storage_get(&forks, parent, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 type=scalar expected=ptr_, trusted_ptr_, rcu_ptr_")
__msg("Caller passes invalid args into func#1 ('note_fork')")
__description("bpf_get_current_task() returns the task's address as a number, not a trusted pointer: use bpf_get_current_task_btf()")
int BPF_PROG(trusted_from_number, struct task_struct *task, u64 clone_flags)
{
	return note_fork((struct task_struct *)bpf_get_current_task());
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_")
__msg("Caller passes invalid args into func#1 ('note_fork')")
__description("a pointer kept in a __kptr_untrusted field may be stale: it cannot be passed as trusted")
int BPF_PROG(trusted_from_untrusted_kptr, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *parent;
	struct last_fork *v;
	u32 key = 0;

	v = bpf_map_lookup_elem(&last_fork, &key);
	if (!v)
		return 0;
	parent = v->parent;
	if (!parent)
		return 0;
	return note_fork(parent);
}

/* a trusted pointer is for reading: the kernel object is not the program's to change */
__noinline int forget_pid(struct task_struct *t __arg_trusted)
{
	t->pid = 0;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating forget_pid() func#1") __msg("only read is supported")
__description("trusted does not mean writable: stores into the kernel object are refused")
int BPF_PROG(trusted_write, struct task_struct *task, u64 clone_flags)
{
	return forget_pid(task);
}

char LICENSE[] SEC("license") = "GPL";
