// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROG where an argument is a struct passed by value: BPF_PROG passes
 * every context slot, a u64, to the body as the next argument, and a u64
 * cannot become a struct: clang refuses it.
 */
// kptrdoc: build error="passing 'unsigned long long' to parameter of incompatible type 'struct tnum'"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 sum_value = 0;

SEC("fentry/tnum_in")
int BPF_PROG(on_tnum_in, struct tnum a, struct tnum b)
{
	sum_value = a.value + b.value;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
