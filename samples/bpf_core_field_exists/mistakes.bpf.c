// SPDX-License-Identifier: GPL-2.0
/*
 * The mistake bpf_core_field_exists prevents: reading a field the running
 * kernel does not have. libbpf cannot relocate the read, so it replaces the
 * instruction with a call to a helper that does not exist (0xbad2310); the
 * verifier refuses that call if the path can run, and libbpf rewrites the
 * verifier's message to name the relocation.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

struct task_struct___rl {
	void *robust_list;
} __attribute__((preserve_access_index));

void *robust_list = 0;

SEC("tp_btf/task_newtask")
__failure_on(">=7.2") __msg("<invalid CO-RE relocation>")
__msg("failed to resolve CO-RE relocation <byte_off>")
__msg("struct task_struct___rl.robust_list")
__description("an unguarded read of robust_list: fine where the field exists, rejected where it was removed")
int BPF_PROG(unguarded_read, struct task_struct *task, u64 clone_flags)
{
	struct task_struct___rl *old = (void *)task;

	robust_list = BPF_CORE_READ(old, robust_list);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
