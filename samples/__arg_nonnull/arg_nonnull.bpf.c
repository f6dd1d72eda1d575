// SPDX-License-Identifier: GPL-2.0
/*
 * __arg_nonnull: a global function that updates a map value it is given.
 * The verifier checks a global function once, on its own, from its BTF
 * signature; __arg_nonnull tells it the pointer is never NULL, so the body
 * needs no NULL check, and every caller must prove it passes a valid one.
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
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);		/* tgid of the parent */
	__type(value, struct fork_counts);
	__uint(max_entries, 1024);
} forks SEC(".maps");

/* global (not static) and not inlined: verified once for all callers */
__noinline int count_fork(struct fork_counts *c __arg_nonnull, u64 clone_flags)
{
	if (clone_flags & CLONE_THREAD)
		__sync_fetch_and_add(&c->threads, 1);
	else
		__sync_fetch_and_add(&c->processes, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("pass a map value to a global function whose pointer argument is declared never NULL")
int BPF_PROG(count_forks, struct task_struct *task, u64 clone_flags)
{
	struct fork_counts zero = {}, *c;
	u32 tgid = bpf_get_current_pid_tgid() >> 32;

	c = bpf_map_lookup_elem(&forks, &tgid);
	if (!c) {
		bpf_map_update_elem(&forks, &tgid, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&forks, &tgid);
		if (!c)
			return 0;
	}
	/* c is known non-NULL here, as the argument tag demands */
	return count_fork(c, clone_flags);
}

char LICENSE[] SEC("license") = "GPL";
