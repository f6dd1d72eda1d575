// SPDX-License-Identifier: GPL-2.0
/*
 * likely(x) and unlikely(x) tell clang which way a condition usually
 * goes (__builtin_expect); the instructions do not change, their order
 * does: the expected path falls through after the conditional jump, the
 * other is jumped to. The two programs test the same condition with the
 * opposite hint.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

long input = 5;				/* the condition's input */
long common_path = 0, rare_path = 0;	/* read back by user space */

SEC("syscall")
__success __run("test_run") __run_check("common_path", "15")
__description("input > 0 expected")
int expect_positive(void *ctx)
{
	if (likely(input > 0))
		common_path = input * 3;
	else
		rare_path = bpf_get_prandom_u32();
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_check("common_path", "15")
__description("the same test, input > 0 not expected")
int expect_not_positive(void *ctx)
{
	if (unlikely(input > 0))
		common_path = input * 3;
	else
		rare_path = bpf_get_prandom_u32();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
