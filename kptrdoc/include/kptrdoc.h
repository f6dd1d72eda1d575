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
 * enabled, went up). Triggers:
 *
 *   "fork"  fork a child process; fits tp_btf/task_newtask and any other
 *           hook on task creation.
 *
 * The link is destroyed right after the check: nothing stays attached.
 * Tag: "kptrdoc:run=trigger".
 */
#define __run(trigger) __kptrdoc_tag("run=" trigger)

#endif /* __KPTRDOC_H__ */
