// SPDX-License-Identifier: GPL-2.0
/*
 * barrier() and barrier_var(v) emit no instruction; they stop the
 * compiler. barrier() is a memory clobber: the store before it cannot be
 * merged with the one after, so both reach memory. barrier_var(v) makes
 * v an opaque register value: clang can no longer compute with what it
 * knows v holds. The two programs without the barriers show what clang
 * does otherwise (one store; a product folded to a constant).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

long progress = 0;			/* read back by user space */
long doubled = 0, doubled_folded = 0;

SEC("syscall")
__success __run("test_run") __run_check("progress", "2")
__description("two stores to one global, kept apart by barrier()")
int with_barrier(void *ctx)
{
	progress = 1;
	barrier();
	progress = 2;
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_check("progress", "2")
__description("the same without barrier(): clang keeps only the last store")
int without_barrier(void *ctx)
{
	progress = 1;
	progress = 2;
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_check("doubled", "14")
__description("7 * 2 computed at run time: barrier_var hides that x is 7")
int with_barrier_var(void *ctx)
{
	long x = 7;

	barrier_var(x);
	doubled = x * 2;
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_check("doubled_folded", "14")
__description("the same without barrier_var: clang stores the constant 14")
int without_barrier_var(void *ctx)
{
	long x = 7;

	doubled_folded = x * 2;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
