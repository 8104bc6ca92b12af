#ifndef MEESEEKS_CSPAWN_H
#define MEESEEKS_CSPAWN_H

#include <spawn.h>
#include <sys/types.h>

/// glibc's posix_spawn_file_actions_addclosefrom_np, which Swift cannot see without _GNU_SOURCE:
/// the child closes every descriptor from `from` up, so a job inherits nothing of the server's.
int meeseeks_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// pipe2 with O_CLOEXEC: both ends close-on-exec from the start, with no window for another
/// spawn to inherit them.
int meeseeks_pipe_cloexec(int fds[2]);

/// pidfd_open(2) (Linux 5.3): a descriptor that becomes readable when the process exits, so one
/// thread can wait for a child and read its output with a single poll. -1 where unsupported.
int meeseeks_pidfd_open(pid_t pid);

/// Starts `path` (a full path) with `argv` and `envp` in a new process group led by a guardian:
/// a fork of this process that runs only async-signal-safe code, asks the kernel for a signal
/// when its parent dies (PR_SET_PDEATHSIG, which also fires when the thread that started it
/// ends; the guardian then checks that its parent process is gone) and then kills the whole
/// group, so a job never outlives the agent that started it. The program is the guardian's child: stdin /dev/null,
/// stdout and stderr `out_fd`, every other descriptor closed, default signal dispositions. The
/// guardian exits as the program did (same code, or killed by the same signal).
///
/// Returns the guardian's pid, or -errno when the program could not be started (ENOENT, EACCES,
/// ...).
pid_t meeseeks_spawn_guarded(const char *path, char *const argv[], char *const envp[], int out_fd);

/// `meeseeks_spawn_guarded` with the guardian started by `helper` (the meeseeks-guardian program)
/// instead of as a fork of this process: a fork copies the caller's page tables and keeps its
/// memory shared copy-on-write for the job's whole life, which cost the box more than the job.
/// The helper runs once as a server that clones each job's guardian as this process's child
/// (`meeseeks_served_guardian`); a request it cannot take gets the helper started for that job
/// alone, with `posix_spawn`. Without a helper (NULL), or when it cannot be started, the fork is
/// used.
pid_t meeseeks_spawn_guarded_by(const char *helper, const char *path, char *const argv[], char *const envp[], int out_fd);

/// Asks this process's guardian server (started from `helper` at the first call, and again after
/// it died) for a guardian that runs `path` as `meeseeks_guardian_main` does, as this process's
/// child. `status_fd` is the start-status pipe (read end, write end); the write end is closed
/// (and set to -1) when the request reached a server, which then tells through the pipe what it
/// started. Returns the guardian's pid (its start is then awaited on `status_fd[0]` as usual), 0
/// when nothing was started (the request was too large, no server could take it, or it started
/// none), or -errno when what came back cannot be trusted.
pid_t meeseeks_served_guardian(const char *helper, const char *path, char *const argv[], char *const envp[], int out_fd, int status_fd[2]);

/// The guardian server, for `meeseeks-guardian --serve PARENT`: answers requests on `socket` until
/// the parent closes it or dies. Each guardian overwrites `argument` (the server's `--serve`, or
/// NULL) with `--job`, so that `ps` tells the server from the guardians. Never returns.
void meeseeks_guardian_serve(pid_t parent, int socket, char *argument);

/// The guardian itself, for the meeseeks-guardian program: `parent` is the pid that started it,
/// the program's output goes to `out_fd`, `status_fd` reports a failed start (and must be
/// close-on-exec). Never returns.
void meeseeks_guardian_main(pid_t parent, const char *path, char *const argv[], char *const envp[], int out_fd, int status_fd);

/// prctl(PR_SET_DUMPABLE, 0): no core dumps, and /proc/<pid>/environ, mem and maps readable by
/// root only, not by other processes of the same user (the embedded agent's jobs).
int meeseeks_set_undumpable(void);

#endif
