// SPDX-License-Identifier: GPL-2.0
/*
 * Asking for the offset of a field the running kernel does not have. The
 * compiler takes the offset from its own header (here a flavor struct that
 * names task_struct.robust_list, which 7.2 removed); libbpf cannot relocate
 * it, so it replaces the constant with a call to a helper that does not
 * exist (0xbad2310), and the verifier's refusal names the relocation.
 * bpf_core_field_exists() guards such a use (its own page).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

struct task_struct___rl {
	void *robust_list;
} __attribute__((preserve_access_index));

__u32 robust_list_offset = 0;

SEC("tp_btf/task_newtask")
__failure_on(">=7.2") __msg("<invalid CO-RE relocation>")
__msg("failed to resolve CO-RE relocation <byte_off>")
__msg("struct task_struct___rl.robust_list")
__description("the offset of a field that 7.2 removed: a constant where it exists, a poisoned call where it does not")
int BPF_PROG(offset_of_removed_field, struct task_struct *task, u64 clone_flags)
{
	struct task_struct___rl *old = (void *)task;

	robust_list_offset = bpf_core_field_offset(old->robust_list);
	return 0;
}

SEC("raw_tp/task_newtask")
__failure __msg("invalid mem access 'scalar'")
__description("the right offset, but a plain load where the pointer is only a number: raw_tp needs a probe read")
int BPF_PROG(plain_load_at_offset, struct task_struct *task, u64 clone_flags)
{
	robust_list_offset = *(__u32 *)((void *)task + bpf_core_field_offset(task->pid));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
