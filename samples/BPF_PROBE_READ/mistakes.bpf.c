// SPDX-License-Identifier: GPL-2.0
/*
 * preserve_access_index on a type the kernel does not have. Fields of
 * such a type are relocated like the kernel's own: libbpf looks for a
 * kernel type of that name, finds none, and poisons the read (a call to
 * the helper 0xbad2310); the verifier refuses it, and libbpf rewrites the
 * message to name the relocation. Our own types want no attribute.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

struct kptrdoc_pair {
	int first;
	int second;
} __attribute__((preserve_access_index));

struct kptrdoc_pair local_pair = { .first = 1, .second = 42 };
int second = 0;

SEC("raw_tp/task_newtask")
__failure __msg("failed to resolve CO-RE relocation <byte_off>")
__msg("struct kptrdoc_pair.second")
__description("our own struct marked preserve_access_index: libbpf looks for it in the kernel and cannot relocate")
int BPF_PROG(local_type_relocated, struct task_struct *task, u64 clone_flags)
{
	struct kptrdoc_pair *p = &local_pair;

	BPF_PROBE_READ_INTO(&second, p, second);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
