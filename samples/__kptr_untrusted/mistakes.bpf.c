// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with __kptr_untrusted fields, each one a program the
 * verifier of the kernel running the tests must reject with the quoted
 * message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct last_fork {
	struct task_struct __kptr_untrusted *parent;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct last_fork);
	__uint(max_entries, 1);
} last_fork SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} forks_by_task SEC(".maps");

static struct last_fork *slot(void)
{
	u32 key = 0;

	return bpf_map_lookup_elem(&last_fork, &key);
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 invalid mem access 'untrusted_ptr_or_null_'")
__description("a pointer loaded from a __kptr_untrusted field may be NULL: check it before reading through it")
int BPF_PROG(untrusted_no_null_check, struct task_struct *task, u64 clone_flags)
{
	struct last_fork *v = slot();

	if (!v)
		return 0;
	return v->parent->pid;	/* the slot may still be empty */
}

SEC("tp_btf/task_newtask")
__failure __msg("invalid kptr access, R0 type=scalar expected=ptr_task_struct or untrusted_ptr_task_struct")
__description("only a BTF pointer of the field's type can be stored: bpf_get_current_task() returns a plain number")
int BPF_PROG(untrusted_store_scalar, struct task_struct *task, u64 clone_flags)
{
	struct last_fork *v = slot();

	if (!v)
		return 0;
	/* bpf_get_current_task_btf() is the helper that returns a typed pointer */
	v->parent = (struct task_struct *)bpf_get_current_task();
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("call bpf_kptr_xchg") __msg("kptr isn't referenced kptr")
__description("bpf_kptr_xchg() moves references: it refuses a __kptr_untrusted field, which holds none")
int BPF_PROG(untrusted_kptr_xchg, struct task_struct *task, u64 clone_flags)
{
	struct last_fork *v = slot();
	struct task_struct *old;

	if (!v)
		return 0;
	old = bpf_kptr_xchg(&v->parent, NULL);
	return old ? old->pid : 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("call bpf_task_storage_get") __msg("R2 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_")
__description("the object behind a __kptr_untrusted pointer may be gone: helpers that need a live task refuse it")
int BPF_PROG(untrusted_to_helper, struct task_struct *task, u64 clone_flags)
{
	struct last_fork *v = slot();
	struct task_struct *parent;
	u64 *forks;

	if (!v)
		return 0;
	parent = v->parent;
	if (!parent)
		return 0;
	forks = bpf_task_storage_get(&forks_by_task, parent, NULL,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (forks)
		(*forks)++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
