// SPDX-License-Identifier: GPL-2.0
/*
 * The same switch with a kind read at run time: the default branch stays,
 * and with it __builtin_trap(), which clang 19's BPF back end turns into
 * a call to abort() and then refuses.
 */
// kptrdoc: build error="A call to built-in function 'abort' is not supported"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

int kind = 0;
long total = 0;

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
int unknown_kind(void *ctx)
{
	total = weight(kind);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
