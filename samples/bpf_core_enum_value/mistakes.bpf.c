// SPDX-License-Identifier: GPL-2.0
/*
 * The value of an enumerator the running kernel does not have. libbpf
 * cannot relocate it, so it replaces the instruction with a call to a
 * helper that does not exist (0xbad2310); the verifier refuses the call,
 * and libbpf rewrites the message to name the relocation.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

long arena_type = -1;

SEC("tp_btf/task_newtask")
__failure_on("<6.9") __msg("<invalid CO-RE relocation>")
__msg("failed to resolve CO-RE relocation <enumval_value>")
__msg("enum bpf_map_type::BPF_MAP_TYPE_ARENA")
__description("the value of BPF_MAP_TYPE_ARENA without asking whether it exists: kernels before 6.9 have no such enumerator")
int BPF_PROG(unguarded_enum_value, struct task_struct *task, u64 clone_flags)
{
	arena_type = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_ARENA);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
