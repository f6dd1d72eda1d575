/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kptrdoc.h - the expectations a kptrdoc sample states about each program.
 *
 * Every annotation below expands to a BTF declaration tag on the program
 * function, so the compiled object carries its own expectations: clang emits
 * a DECL_TAG whose string starts with "kptrdoc:" and points at the FUNC of
 * the program (component_idx -1). The pytest plugin (kptrdoc.pytest_plugin)
 * reads them back with kptrdoc's own BTF reader and loads the program into
 * the running kernel to check them.
 *
 * Put the annotations between SEC(...) and the function:
 *
 *     SEC("tp_btf/task_newtask")
 *     __success __run("fork")
 *     int BPF_PROG(record_task_cpumask, struct task_struct *task, u64 flags)
 *
 * Every program needs exactly one of __success, __failure or __failure_on(...);
 * a program with none is reported as an error, never as a silent pass.
 * With __success, __run(...) also runs it, __run_set(...) gives it values,
 * __run_check(...) says what user space must read back afterwards and
 * __run_printed(...) what it must find in the kernel's trace buffer.
 */
#ifndef __KPTRDOC_H__
#define __KPTRDOC_H__

#define __kptrdoc_tag(text) __attribute__((btf_decl_tag("kptrdoc:" text)))

/*
 * __success - the verifier must accept the program: libbpf loads it into
 * the running kernel. Tag: "kptrdoc:success".
 */
#define __success __kptrdoc_tag("success")

/*
 * __failure - the verifier must reject the program. A failure before the
 * verifier (for example libbpf cannot resolve a kfunc) does not count: the
 * program has to reach the verifier and be refused by it.
 * Tag: "kptrdoc:failure".
 */
#define __failure __kptrdoc_tag("failure")

/*
 * __msg("text") - with __failure (or __failure_on): "text" must occur in
 * the verifier log. Repeatable; several __msg are matched in the order
 * they are written, each one searched after the end of the previous match. The text is a plain
 * substring, not a pattern. Verifier messages differ between kernels: a
 * __msg is checked against the kernel the test runs on, and __msg_on
 * (below) states the text of other kernels.
 * Tag: "kptrdoc:msg=text".
 */
#define __msg(text) __kptrdoc_tag("msg=" text)

/*
 * __msg_on("range", "text") - a verifier message for the kernels in "range"
 * only. On a kernel in the range, the __msg_on of that range (all of them,
 * in the order written) replace the plain __msg lines; on other kernels
 * they are ignored. Use it where a kernel legitimately reworded the
 * message, quoting what that kernel printed:
 *
 *     __failure __msg("Possibly NULL pointer passed to trusted arg0")
 *     __msg_on(">=7", "Possibly NULL pointer passed to trusted R1")
 *
 * "range" is an optional <, <=, >, >= or == and a version of one to three
 * numbers: "<6.13", ">=7", "<=6.12", "6.12" (every 6.12.y). A kernel is
 * compared on as many numbers as the range has. The pytest plugin applies
 * it on the running kernel, the kernel matrix on each kernel it boots.
 * Tag: "kptrdoc:msg@range=text".
 */
#define __msg_on(range, text) __kptrdoc_tag("msg@" range "=" text)

/*
 * __failure_on("range") - instead of __success or __failure, for a mistake
 * that older (or some) kernels reject and others legitimately accept: on a
 * kernel in "range" the program must be rejected by the verifier exactly as
 * with __failure (__msg and __msg_on are checked), on any other kernel it
 * must load as with __success. Repeatable: the ranges add up. The site
 * lists the program with the common mistakes. Range syntax as for
 * __msg_on. Tag: "kptrdoc:failure@range".
 *
 *     __failure_on("<7") __msg("Global function note_task() doesn't return scalar")
 */
#define __failure_on(range) __kptrdoc_tag("failure@" range)

/*
 * __description("text") - one sentence saying what the program shows; the
 * site uses it as the caption of the example or of the common mistake, and
 * the test report shows it. Tag: "kptrdoc:description=text".
 */
#define __description(text) __kptrdoc_tag("description=" text)

/*
 * __run("trigger") - with __success: after loading, attach the program,
 * cause the event named by "trigger", and require that the program ran
 * (its run count, read from /proc/self/fdinfo with run-time statistics
 * enabled, went up). Each trigger causes its event once, from the process
 * that loads the program unless said otherwise, and records what it knows
 * about it (the values of __run_check and __run_set, below):
 *
 *   "fork"      fork() a child process that exits at once. Fits
 *               tp_btf/task_newtask and other hooks on task creation.
 *               Records pid tgid ppid; after the event child_pid.
 *   "close"     open /dev/null and close() that descriptor. Fits
 *               tp_btf/sys_enter and raw_tp/sys_enter (the system call's
 *               id is nr), tp/syscalls/sys_enter_close (needs tracefs).
 *               Records pid tgid ppid fd nr arg0 (arg0 = fd).
 *   "getpgid"   getpgid(getppid()): a system call with a known argument
 *               that nothing else in the process makes. Fits the same
 *               hooks as "close". Records pid tgid ppid nr arg0 (= ppid).
 *   "test_run"  BPF_PROG_TEST_RUN, once; nothing is attached. Packet
 *               programs (xdp, tc, socket filter, cgroup_skb) get a 50-byte
 *               Ethernet/IPv4/UDP packet, 10.0.0.1:4242 -> 10.0.0.2:4243
 *               with the payload "kptrdoc\0"; others (syscall) no data.
 *               Records pid tgid ppid, pkt_len for packet programs; after
 *               the run retval.
 *   "uprobe"    a small program (built with the system's C compiler on
 *               first use, into kptrdoc's cache) calls
 *               long kptrdoc_uprobe_target(long a, ..., long f) once, as
 *               kptrdoc_uprobe_target(1001, 2002, 3003, 4004, 5005, 6006),
 *               which returns their sum, 21021. SEC("uprobe") is attached
 *               at the function's entry, SEC("uretprobe") at its return, in
 *               that process only. Records pid tgid (of that process) ppid
 *               arg0 .. arg5; after the call retval.
 *   "usdt"      a small program (built with the system's C compiler and
 *               systemtap's sys/sdt.h on first use, into kptrdoc's cache)
 *               passes the USDT probe kptrdoc:args once, with 1001, -2002
 *               and 3003. SEC("usdt") is attached to it in that process
 *               only. Records pid tgid (of that process) ppid arg0 arg1
 *               arg2.
 *   "iter"      a BPF iterator (SEC("iter/...")): attached, then read from
 *               an iterator created on its link, in this thread, to the
 *               end. What the program wrote (BPF_SEQ_PRINTF) is where
 *               __run_printed looks first. Records pid tgid ppid.
 *
 * Hooks on system-wide events (task creation, every system call) also run
 * for the rest of the machine: give the program the tgid with __run_set
 * and let it ignore other processes, or a __run_check may read what
 * another process left.
 *
 * The link is destroyed right after the check: nothing stays attached.
 * Tag: "kptrdoc:run=trigger".
 */
#define __run(trigger) __kptrdoc_tag("run=" trigger)

/*
 * __run_check("global", "value") - with __run: after the event (and before
 * the program is detached), user space reads the global variable "global"
 * of the object back from its internal map, and it must equal "value".
 * Repeatable. "global" is an integer (any int, enum, bool or char type of
 * 1, 2, 4 or 8 bytes) in .bss or .data: not in .rodata, which the program
 * cannot write. The comparison is at the global's width: "-1" meets an
 * unsigned int holding 0xffffffff. A different value fails the test with
 * both values: "user space read seen_fd = 5, expected 7 (fd)".
 *
 * "value" is an integer literal ("42", "-1", "0x2a") or one of the names
 * below; a name must be one that the __run trigger records (see above):
 *
 *   pid        the thread id of the task the event happened in: the low
 *              32 bits of bpf_get_current_pid_tgid()
 *   tgid       the process id of that task: the high 32 bits
 *   ppid       the parent of that process
 *   child_pid  the pid of the child the fork created
 *   fd         the file descriptor passed to close()
 *   nr         the number of the trigger's system call on this
 *              architecture (x86_64, aarch64, riscv64)
 *   arg0..arg5 the arguments of the system call or of the function
 *   retval     the program's return value (test_run, as a signed 32-bit
 *              int) or the function's (uprobe)
 *   pkt_len    the length of the packet test_run gave the program
 *   nonce      a random number drawn for each run (every trigger): a
 *              marker for text the program prints (__run_printed)
 *
 *     int closed_fd;
 *
 *     SEC("tp_btf/sys_enter")
 *     __success __run("close") __run_check("closed_fd", "fd")
 *     int BPF_PROG(on_close, struct pt_regs *regs, long id) { ... }
 *
 * Tag: "kptrdoc:run_check=global=value".
 */
#define __run_check(global, value) __kptrdoc_tag("run_check=" global "=" value)

/*
 * __run_set("global", "value") - with __run: before attaching and causing
 * the event, user space writes "value" into the global "global" (an integer
 * of .bss or .data, as for __run_check). Repeatable. "value" is a literal
 * or a name the trigger knows before its event (not child_pid, not
 * retval). This is how a program on a system-wide hook learns which
 * process and system call to watch:
 *
 *     int target_tgid, want_nr, closed_fd;
 *
 *     SEC("tp_btf/sys_enter")
 *     __success __run("close") __run_set("target_tgid", "tgid")
 *     __run_set("want_nr", "nr") __run_check("closed_fd", "fd")
 *     int BPF_PROG(on_close, struct pt_regs *regs, long id)
 *     {
 *             if (bpf_get_current_pid_tgid() >> 32 != target_tgid || id != want_nr)
 *                     return 0;
 *             closed_fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
 *             return 0;
 *     }
 *
 * Tag: "kptrdoc:run_set=global=value".
 */
#define __run_set(global, value) __kptrdoc_tag("run_set=" global "=" value)

/*
 * __run_printed("text") - with __run: after the event, the kernel's trace
 * buffer (what bpf_printk() writes, /sys/kernel/tracing/trace) must hold a
 * line containing "text", in which {name} stands for a value the trigger
 * records (the names above). Repeatable. The buffer is read, not consumed
 * (tests running in parallel read the same one): give the program the
 * run's nonce with __run_set and print it, so that it finds its own line.
 *
 *     int nonce;
 *
 *     SEC("syscall")
 *     __success __run("test_run") __run_set("nonce", "nonce")
 *     __run_printed("kptrdoc {nonce}: 42")
 *     int say(void *ctx) { bpf_printk("kptrdoc %d: %d", nonce, 42); return 0; }
 *
 * Tag: "kptrdoc:run_printed=text".
 */
#define __run_printed(text) __kptrdoc_tag("run_printed=" text)

#endif /* __KPTRDOC_H__ */
