// SPDX-License-Identifier: GPL-2.0
/*
 * A kfunc is registered for some program types only. The cpumask kfuncs
 * (kernel/bpf/cpumask.c) serve tracing, LSM, struct_ops and syscall
 * programs; an XDP program that calls one is rejected. A separate file,
 * because older kernels lack these kfuncs and libbpf resolves every __ksym
 * extern of an object before loading any program of it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;

SEC("xdp")
__failure __msg("calling kernel function bpf_cpumask_create is not allowed")
__description("the kernel exports a kfunc only to the program types it registered it for")
int cpumask_in_xdp(struct xdp_md *ctx)
{
	struct bpf_cpumask *mask;

	mask = bpf_cpumask_create();
	if (mask)
		bpf_cpumask_release(mask);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
