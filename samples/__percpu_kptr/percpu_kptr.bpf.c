// SPDX-License-Identifier: GPL-2.0
/*
 * __percpu_kptr: give each entry of a hash map its own per-CPU counters.
 * The first fork of a process allocates a per-CPU object with the
 * bpf_percpu_obj_new_impl() kfunc and moves it into the entry's
 * __percpu_kptr field with bpf_kptr_xchg(); every fork then bumps the
 * counters of the CPU it runs on, reached through bpf_this_cpu_ptr().
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

/* kfuncs of kernel/bpf/helpers.c; the type to allocate is named by its id
 * in the program's own BTF, the second argument is filled in by the verifier
 */
extern void *bpf_percpu_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_percpu_obj_drop_impl(void *kptr, void *meta) __ksym;

#define CLONE_THREAD 0x00010000

/* one copy per CPU: plain scalars only */
struct fork_counts {
	u64 processes;
	u64 threads;
};

struct proc_stats {
	struct fork_counts __percpu_kptr *counts;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);		/* tgid of the parent */
	__type(value, struct proc_stats);
	__uint(max_entries, 1024);
} stats SEC(".maps");

/* The entry of @tgid with per-CPU counters attached, or NULL. */
static struct proc_stats *stats_of(u32 tgid)
{
	struct proc_stats empty = {}, *s;
	struct fork_counts *fresh;

	s = bpf_map_lookup_elem(&stats, &tgid);
	if (s && s->counts)
		return s;
	if (!s) {
		bpf_map_update_elem(&stats, &tgid, &empty, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&stats, &tgid);
		if (!s)
			return NULL;
	}

	fresh = bpf_percpu_obj_new_impl(bpf_core_type_id_local(struct fork_counts), NULL);
	if (!fresh)
		return NULL;
	/* another CPU may have attached counters meanwhile: drop the loser */
	fresh = bpf_kptr_xchg(&s->counts, fresh);
	if (fresh)
		bpf_percpu_obj_drop_impl(fresh, NULL);
	return s;
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("per-CPU fork counters hung off each hash map entry through a __percpu_kptr field")
int BPF_PROG(count_forks, struct task_struct *task, u64 clone_flags)
{
	struct fork_counts *counts, *mine;
	struct proc_stats *s;

	s = stats_of(bpf_get_current_pid_tgid() >> 32);
	if (!s)
		return 0;

	/* a plain load is allowed: the program runs under RCU protection */
	counts = s->counts;
	if (!counts)
		return 0;
	mine = bpf_this_cpu_ptr(counts);	/* this CPU's copy, no atomics needed */
	if (clone_flags & CLONE_THREAD)
		mine->threads++;
	else
		mine->processes++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
