// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_core_enum_value and bpf_core_enum_value_exists: an enumerator's value,
 * and whether it exists, in the running kernel. The compiler emits the value
 * of vmlinux.h with a CO-RE relocation; libbpf writes the kernel's answer.
 * CPUHP_AP_ONLINE_DYN sits in a long enum whose members depend on the
 * kernel's version and configuration; BPF_MAP_TYPE_ARENA came in Linux 6.9.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int tgid_type = -1;		/* read back by user space */
int has_arena = -1;
long arena_type = -1;
long online_dyn = -1;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_check("tgid_type", "1")
__description("enumerator values as the running kernel defines them; a value that may be missing is asked for first")
int BPF_PROG(kernel_enums, struct task_struct *task, u64 clone_flags)
{
	tgid_type = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	online_dyn = bpf_core_enum_value(enum cpuhp_state, CPUHP_AP_ONLINE_DYN);
	has_arena = bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_ARENA);
	if (bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_ARENA))
		arena_type = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_ARENA);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
