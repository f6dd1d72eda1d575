// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_core_enum_value takes an enum type and one of its enumerators: the
 * compiler checks both, so a name that is not an enumerator of that enum
 * never reaches a kernel.
 */
// kptrdoc: build error="__builtin_preserve_enum_value argument 1 invalid"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

long value = -1;

SEC("tp_btf/task_newtask")
int BPF_PROG(not_an_enumerator, struct task_struct *task, u64 clone_flags)
{
	value = bpf_core_enum_value(enum bpf_map_type, 33);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
