// SPDX-License-Identifier: GPL-2.0
/*
 * __bpf_unreachable() marks code that must not survive compilation: it is
 * __builtin_trap(), which clang's BPF back end cannot emit. Here the
 * switch covers every kind it is called with; each call passes a
 * constant, so after inlining clang removes the default branch and the
 * program builds (no trace of it in the instructions). The other sample
 * passes a value known only at run time, and clang refuses to build it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

long total = 0;				/* read back by user space */

static __always_inline long weight(const int kind)
{
	switch (kind) {
	case 0:
		return 1;
	case 1:
		return 10;
	default:
		__bpf_unreachable();
	}
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_check("total", "11")
__description("weights of the two known kinds; the default branch is compiled away")
int known_kinds(void *ctx)
{
	total = weight(0) + weight(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
