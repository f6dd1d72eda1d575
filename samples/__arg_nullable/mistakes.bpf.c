// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes around __arg_nullable, each one a program the verifier
 * of the kernel running the tests must reject with the quoted message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

#define CLONE_THREAD 0x00010000

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} forks SEC(".maps");

/* the leader of the new thread's group, or NULL for a new process */
static struct task_struct *leader_of(struct task_struct *task, u64 clone_flags)
{
	return clone_flags & CLONE_THREAD ? task->group_leader : NULL;
}

__noinline int leader_pid(struct task_struct *leader __arg_trusted __arg_nullable)
{
	return leader->tgid;	/* no NULL check */
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating leader_pid() func#1")
__msg("R1 invalid mem access 'trusted_ptr_or_null_'")
__description("an __arg_nullable argument may be NULL inside the function: check it before reading through it")
int BPF_PROG(nullable_unchecked, struct task_struct *task, u64 clone_flags)
{
	return leader_pid(leader_of(task, clone_flags));
}

__noinline int note_fork(struct task_struct *t __arg_trusted)
{
	u64 *n;

	n = bpf_task_storage_get(&forks, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

__noinline int note_thread(struct task_struct *leader __arg_trusted __arg_nullable)
{
	return note_fork(leader);	/* passed on unchecked */
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating note_thread() func#1")
__msg("R1 type=trusted_ptr_or_null_ expected=ptr_, trusted_ptr_, rcu_ptr_")
__msg("Caller passes invalid args into func#2 ('note_fork')")
__description("a nullable argument cannot be passed on to a non-nullable one without a check")
int BPF_PROG(nullable_passed_on, struct task_struct *task, u64 clone_flags)
{
	return note_thread(leader_of(task, clone_flags));
}

struct fork_counts {
	u64 processes;
	u64 threads;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct fork_counts);
	__uint(max_entries, 1024);
} counts SEC(".maps");

/* meant as "this pointer may be NULL" on plain memory: that is the default */
__noinline int bump(struct fork_counts *c __arg_nullable)
{
	if (c)
		__sync_fetch_and_add(&c->processes, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("arg#0 has invalid combination of tags")
__description("__arg_nullable qualifies __arg_trusted: on its own, on a pointer to plain memory, it is refused")
int BPF_PROG(nullable_alone, struct task_struct *task, u64 clone_flags)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bump(bpf_map_lookup_elem(&counts, &tgid));
}

char LICENSE[] SEC("license") = "GPL";
