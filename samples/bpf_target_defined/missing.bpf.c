// SPDX-License-Identifier: GPL-2.0
/*
 * A build without -D__TARGET_ARCH_<arch>: bpf_tracing.h knows no target,
 * and every PT_REGS_* macro (here, through BPF_KPROBE) becomes the
 * __BPF_TARGET_MISSING pragma, a compile error with its message.
 */
// kptrdoc: build arch=none error="Must specify a BPF target arch via __TARGET_ARCH_xxx"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/find_task_by_vpid")
int BPF_KPROBE(lookup_entry, pid_t nr)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
