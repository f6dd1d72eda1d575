// SPDX-License-Identifier: GPL-2.0
/*
 * __kconfig: read the running kernel's build configuration. libbpf parses
 * /boot/config-$(uname -r) or /proc/config.gz when it loads the object and
 * stores the values in a read-only map the program reads like globals.
 * LINUX_KERNEL_VERSION is not a Kconfig option: libbpf provides it itself.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

extern int CONFIG_HZ __kconfig;				/* CONFIG_HZ=250: an integer */
extern enum libbpf_tristate CONFIG_BPF_SYSCALL __kconfig;	/* y, m or n */
extern bool CONFIG_SCHED_CORE __kconfig __weak;	/* "is not set" here: __weak reads it as false */
extern u32 LINUX_KERNEL_VERSION __kconfig;		/* KERNEL_VERSION(a, b, c) of uname */

u64 last_fork_ms;		/* jiffies turned into milliseconds */
u32 kernel_version;
bool core_scheduling;
bool bpf_built_in;

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("convert jiffies to milliseconds with CONFIG_HZ and record configuration facts read through __kconfig externs")
int BPF_PROG(note_fork_time, struct task_struct *task, u64 clone_flags)
{
	last_fork_ms = bpf_jiffies64() * 1000 / CONFIG_HZ;
	kernel_version = LINUX_KERNEL_VERSION;
	core_scheduling = CONFIG_SCHED_CORE;
	bpf_built_in = CONFIG_BPF_SYSCALL == TRI_YES;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
