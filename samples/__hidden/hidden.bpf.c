// SPDX-License-Identifier: GPL-2.0
/*
 * __hidden: global symbols that stay inside the BPF object. Helper
 * functions and counters shared by several .bpf.c files of one program
 * (linked with `bpftool gen object`) are global, so each file can use them,
 * and hidden, so libbpf treats them like static ones: the functions are
 * verified in the context of each call, the variables are not exposed to
 * user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

#define CLONE_THREAD 0x00010000

u64 threads_created __hidden;
u64 processes_created __hidden;

/*
 * A library function: a void function with a pointer argument. As a plain
 * global function the verifier would check it alone and refuse both; as a
 * hidden one it is checked where it is called, with a known pointer.
 * __noinline keeps it a real BPF-to-BPF call, as a call from another file is.
 */
__hidden __noinline void count_new_task(u64 *counter)
{
	__sync_fetch_and_add(counter, 1);
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("share a void helper with a pointer argument and two counters across files, kept out of user space with __hidden")
int BPF_PROG(count_tasks, struct task_struct *task, u64 clone_flags)
{
	if (clone_flags & CLONE_THREAD)
		count_new_task(&threads_created);
	else
		count_new_task(&processes_created);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
