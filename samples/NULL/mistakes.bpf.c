// SPDX-License-Identifier: GPL-2.0
/*
 * The value of a lookup used without comparing it with NULL first.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, long);
} counters SEC(".maps");

SEC("syscall")
__failure __msg("invalid mem access 'map_value_or_null'")
__description("increment a looked-up value that may be NULL")
int count_unchecked(void *ctx)
{
	__u32 key = 0;
	long *value = bpf_map_lookup_elem(&counters, &key);

	++*value;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
