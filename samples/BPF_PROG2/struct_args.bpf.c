// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROG2 on a function that takes structs by value: the verifier's own
 * tnum_in(struct tnum a, struct tnum b), two 16-byte structs. A BTF
 * tracing program gets each argument in 8-byte slots of its context, and
 * a 16-byte struct takes two: BPF_PROG2 knows each argument's size and
 * reads a from ctx[0] and ctx[1], b from ctx[2] and ctx[3] (see the
 * instructions). The kernel checks those reads against tnum_in's BTF when
 * it loads the program; this sample only loads it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

__u64 sum_value = 0, sum_mask = 0;

SEC("fentry/tnum_in")
__success
__description("two struct tnum arguments, two context slots each")
int BPF_PROG2(on_tnum_in, struct tnum, a, struct tnum, b)
{
	sum_value = a.value + b.value;
	sum_mask = a.mask | b.mask;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
