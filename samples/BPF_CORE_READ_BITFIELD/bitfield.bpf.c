// SPDX-License-Identifier: GPL-2.0
/*
 * Bitfields under CO-RE. A bitfield has no address, so BPF_CORE_READ
 * cannot read one; these macros ask libbpf for the bytes that hold it
 * (byte_off, byte_sz) and for the shifts that extract it (lshift_u64,
 * rshift_u64, signed), each relocated for the running kernel, then load the
 * bytes directly (BPF_CORE_READ_BITFIELD), with a probe read
 * (BPF_CORE_READ_BITFIELD_PROBED), or store them back with the field
 * replaced (BPF_CORE_WRITE_BITFIELD). An IPv4 header of our own, 0x45 in
 * its first byte (ihl 5, version 4), shows the values; the new task's
 * sched_reset_on_fork, which fork clears, shows a kernel bitfield.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

struct iphdr header = { .ihl = 5, .version = 4, .ttl = 64 };
int forking_tgid = 0;		/* written by user space: only its forks count */
int ihl = -1;			/* read back by user space */
int version = -1;
int ihl_probed = -1;
int version_probed = -1;
int ihl_written = -1;
int version_kept = -1;
int reset_on_fork = -1;
int pid_read_as_bitfield = -1;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid")
__run_check("ihl", "5") __run_check("version", "4") __run_check("ihl_probed", "5")
__run_check("version_probed", "4") __run_check("ihl_written", "15") __run_check("version_kept", "4")
__run_check("reset_on_fork", "0") __run_check("pid_read_as_bitfield", "child_pid")
__description("read, probe-read and write the two 4-bit fields of a header, and read a bitfield of the new task")
int BPF_PROG(bitfields, struct task_struct *task, u64 clone_flags)
{
	struct iphdr *h = &header;
	struct iphdr copy = header;

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	ihl = BPF_CORE_READ_BITFIELD(h, ihl);
	version = BPF_CORE_READ_BITFIELD(h, version);
	ihl_probed = BPF_CORE_READ_BITFIELD_PROBED(h, ihl);
	version_probed = BPF_CORE_READ_BITFIELD_PROBED(h, version);
	BPF_CORE_WRITE_BITFIELD(&copy, ihl, 15);
	ihl_written = BPF_CORE_READ_BITFIELD(&copy, ihl);
	version_kept = BPF_CORE_READ_BITFIELD(&copy, version);
	reset_on_fork = BPF_CORE_READ_BITFIELD(task, sched_reset_on_fork);
	pid_read_as_bitfield = BPF_CORE_READ_BITFIELD(task, pid);	/* not a bitfield: works too */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
