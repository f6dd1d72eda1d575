// SPDX-License-Identifier: GPL-2.0
/*
 * enum libbpf_pin_type: the value of a BTF-defined map's `pinning`
 * attribute. LIBBPF_PIN_NONE, the default, says the map lives as long as
 * the object holding it; spelling it out documents that a map shared
 * elsewhere by pinning is deliberately private here.
 *
 * pin_by_name.bpf.c shows the other value, LIBBPF_PIN_BY_NAME.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);			/* parent tgid */
	__type(value, u64);			/* tasks created */
	__uint(pinning, LIBBPF_PIN_NONE);	/* private: never pinned */
} scratch_counts SEC(".maps");

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("a map whose pinning attribute is LIBBPF_PIN_NONE: created with the object, gone with it")
int BPF_PROG(count_private, struct task_struct *task, u64 clone_flags)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32;
	u64 one = 1, *count;

	count = bpf_map_lookup_elem(&scratch_counts, &parent);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&scratch_counts, &parent, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
