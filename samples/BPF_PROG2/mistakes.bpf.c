// SPDX-License-Identifier: GPL-2.0
/*
 * Struct arguments are fine, a struct return value is not: tnum_add()
 * returns a struct tnum, and the kernel refuses an fentry program on it
 * before looking at a single instruction.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

__u64 sum_value = 0;

SEC("fentry/tnum_add")
__failure __msg("The function tnum_add return type STRUCT is unsupported")
__description("fentry on a function that returns a struct by value")
int BPF_PROG2(on_tnum_add, struct tnum, a, struct tnum, b)
{
	sum_value = a.value + b.value;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
