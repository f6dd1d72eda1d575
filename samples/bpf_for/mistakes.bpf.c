// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_for_each(num, v, ...) gives a pointer to the current number, and the
 * number is the iterator's, read-only to the program: writing through v
 * is refused.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

long sum = 0;

SEC("syscall")
__failure __msg("cannot write into rdonly_mem")
__description("writing the number bpf_for_each points at")
int skip_ahead(void *ctx)
{
	int *v;

	bpf_for_each(num, v, 0, 16) {
		sum += *v;
		*v += 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
