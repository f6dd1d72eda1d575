/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmlinux.h for a sample built for another architecture
 * (// kptrdoc: build arch=...). kptrdoc has the BTF of this machine's
 * kernels only, so such a build takes the kernel's types from that
 * architecture's uapi headers (Debian's linux-libc-dev) instead: the BPF
 * uapi and the register structure bpf_tracing.h reads (struct pt_regs,
 * user_pt_regs or user_regs_struct, under their uapi names). That is
 * enough for the register macros, and it is what the per-architecture
 * tables are compiled from.
 */
#ifndef __KPTRDOC_FOREIGN_VMLINUX_H__
#define __KPTRDOC_FOREIGN_VMLINUX_H__

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#endif /* __KPTRDOC_FOREIGN_VMLINUX_H__ */
