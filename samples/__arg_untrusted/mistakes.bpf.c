// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes around __arg_untrusted, each one a program the verifier
 * of the kernel running the tests must reject with the quoted message.
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

__noinline int note_fork(struct task_struct *t __arg_untrusted)
{
	u64 *n;

	n = bpf_task_storage_get(&forks, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating note_fork() func#1")
__msg("R2 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_")
__description("an untrusted task may be gone: helpers that need a live task refuse it (use __arg_trusted for those)")
int BPF_PROG(untrusted_to_helper, struct task_struct *task, u64 clone_flags)
{
	return note_fork(task);
}

__noinline int hide_task(struct task_struct *t __arg_untrusted)
{
	t->tgid = 0;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating hide_task() func#1") __msg("only read is supported")
__description("an __arg_untrusted pointer is for reading only")
int BPF_PROG(untrusted_write, struct task_struct *task, u64 clone_flags)
{
	return hide_task(task);
}

/* on a pointer to plain data the tag means read-only, untrusted memory */
__noinline int clear_comm(char *comm __arg_untrusted)
{
	comm[0] = 0;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating clear_comm() func#1")
__msg("R1 cannot write into rdonly_untrusted_mem")
__description("on a char * the tag gives read-only memory: writes through it are refused")
int BPF_PROG(untrusted_mem_write, struct task_struct *task, u64 clone_flags)
{
	return clear_comm(task->comm);
}

__noinline int maybe_pid(struct task_struct *t __arg_untrusted __arg_nullable)
{
	return t ? t->pid : 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("arg#0 untrusted cannot be combined with any other tags")
__description("__arg_untrusted stands alone: an untrusted argument already may be anything, NULL included")
int BPF_PROG(untrusted_nullable, struct task_struct *task, u64 clone_flags)
{
	return maybe_pid(task);
}

/* a struct of the program's own, not of the kernel */
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

__noinline int peek_processes(struct fork_counts *c __arg_untrusted)
{
	return c->processes;
}

SEC("tp_btf/task_newtask")
__failure __msg("arg#0 reference type('STRUCT fork_counts') has no matches")
__description("a struct behind __arg_untrusted must be a kernel struct: the program's own types are not found in the kernel's BTF")
int BPF_PROG(untrusted_local_struct, struct task_struct *task, u64 clone_flags)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct fork_counts *c;

	c = bpf_map_lookup_elem(&counts, &tgid);
	return c ? peek_processes(c) : 0;
}

char LICENSE[] SEC("license") = "GPL";
