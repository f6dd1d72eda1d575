// SPDX-License-Identifier: GPL-2.0
/*
 * __noinline keeps a function a function: clang emits it once, as a BPF
 * subprogram in .text, and each caller reaches it with a BPF-to-BPF call
 * (call pc+N); the verifier checks it in the context of each call.
 * __always_inline copies the body into the caller: no call, no
 * subprogram. Both compute 20 + 22; user space checks the two results.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

long x = 20, y = 22;			/* inputs */
long called = 0, inlined = 0;		/* read back by user space */

static __noinline long add_called(long a, long b)
{
	return a + b;
}

static __always_inline long add_inlined(long a, long b)
{
	return a + b;
}

SEC("syscall")
__success __run("test_run") __run_check("called", "42") __run_check("inlined", "42")
__description("the same sum through a BPF-to-BPF call and inlined")
int sums(void *ctx)
{
	called = add_called(x, y);
	inlined = add_inlined(x, y);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
