// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with __kconfig externs that the verifier catches. The
 * values live in the object's .kconfig map, which libbpf creates read-only
 * for programs and freezes after filling it in.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

extern int CONFIG_HZ __kconfig;

u64 last_fork_ms;

SEC("tp_btf/task_newtask")
__failure __msg("write into map forbidden")
__description("a __kconfig extern is a read-only value: the program cannot change it")
int BPF_PROG(write_kconfig, struct task_struct *task, u64 clone_flags)
{
	if (CONFIG_HZ < 1000)
		CONFIG_HZ = 1000;	/* stored in the read-only .kconfig map */
	last_fork_ms = bpf_jiffies64() * 1000 / CONFIG_HZ;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
