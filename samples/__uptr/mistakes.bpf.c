// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with __uptr fields, each one a program the verifier of
 * the kernel running the tests must reject with the quoted message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct fork_counts {
	u64 processes;
	u64 threads;
};

/* only ever pointed to: clang emits it as a forward declaration */
struct opaque_counts {
	u64 processes;
	u64 threads;
};

struct task_value {
	struct fork_counts __uptr *counts;
};

struct opaque_value {
	struct opaque_counts __uptr *counts;
};

struct fork_counts all_forks;	/* makes struct fork_counts complete in BTF */

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_value);
} registered SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct opaque_value);
} registered_opaque SEC(".maps");

/* __uptr fields are for task storage only */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);		/* pid */
	__type(value, struct task_value);
	__uint(max_entries, 1024);
} registered_by_pid SEC(".maps");

static struct task_value *my_entry(void)
{
	return bpf_task_storage_get(&registered, bpf_get_current_task_btf(), NULL, 0);
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 invalid mem access 'mem_or_null'")
__description("a process may not have registered any memory: check the __uptr pointer for NULL")
int BPF_PROG(uptr_no_null_check, struct task_struct *task, u64 clone_flags)
{
	struct task_value *v = my_entry();

	if (!v)
		return 0;
	v->counts->processes++;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("store to uptr disallowed")
__description("only user space sets a __uptr field: programs cannot store into it")
int BPF_PROG(uptr_store, struct task_struct *task, u64 clone_flags)
{
	struct task_value *v = my_entry();

	if (!v)
		return 0;
	v->counts = &all_forks;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("call bpf_kptr_xchg") __msg("R1 has no valid kptr")
__description("a __uptr field holds no kernel reference: bpf_kptr_xchg() refuses it")
int BPF_PROG(uptr_xchg, struct task_struct *task, u64 clone_flags)
{
	struct task_value *v = my_entry();
	struct fork_counts *old;

	if (!v)
		return 0;
	old = bpf_kptr_xchg(&v->counts, NULL);
	return old ? 1 : 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 invalid mem access 'scalar'")
__description("the pointed-to struct must be complete in the object's BTF, or the kernel does not treat the field as a __uptr")
int BPF_PROG(uptr_forward_declared, struct task_struct *task, u64 clone_flags)
{
	struct opaque_value *v;
	struct opaque_counts *opaque;

	v = bpf_task_storage_get(&registered_opaque, bpf_get_current_task_btf(), NULL, 0);
	if (!v)
		return 0;
	opaque = v->counts;
	if (opaque)
		opaque->processes++;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 invalid mem access 'scalar'")
__description("only task storage maps take __uptr fields: libbpf creates this hash map without BTF, and the field is a plain number")
int BPF_PROG(uptr_in_hash_map, struct task_struct *task, u64 clone_flags)
{
	u32 pid = bpf_get_current_pid_tgid();
	struct fork_counts *counts;
	struct task_value *v;

	v = bpf_map_lookup_elem(&registered_by_pid, &pid);
	if (!v)
		return 0;
	counts = v->counts;
	if (counts)
		counts->processes++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
