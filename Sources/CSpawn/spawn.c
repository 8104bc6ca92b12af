#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "cspawn.h"
#include "internal.h"

int meeseeks_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int meeseeks_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int meeseeks_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int meeseeks_set_undumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void meeseeks_watch_parent(void (*handler)(int)) {
    struct sigaction on_death;
    on_death.sa_handler = handler;
    on_death.sa_flags = 0;
    sigemptyset(&on_death.sa_mask);
    sigaction(SIGHUP, &on_death, NULL);
    prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/// The guardian's parent when it started; a different parent means the real one died.
static pid_t guardian_parent;

static void guardian_on_parent_death(int signal) {
    (void)signal;
    if (getppid() != guardian_parent) kill(0, SIGKILL);  // the whole group, the guardian included
}

static void write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        size -= (size_t)n;
    }
}

/// Closes every descriptor from 3 up except `keep_a` and `keep_b` (async-signal-safe).
static void close_all_except(int keep_a, int keep_b) {
    int low = keep_a < keep_b ? keep_a : keep_b;
    int high = keep_a < keep_b ? keep_b : keep_a;
    int bounds[3][2] = {{3, low - 1}, {low + 1, high - 1}, {high + 1, -1}};
    for (int i = 0; i < 3; i++) {
        int from = bounds[i][0], to = bounds[i][1];
        if (to != -1 && from > to) continue;
        if (syscall(SYS_close_range, (unsigned)from, to == -1 ? ~0U : (unsigned)to, 0) == 0) continue;
        for (int fd = from; fd <= (to == -1 ? 65535 : to); fd++) close(fd);  // kernels before 5.9
    }
}

/// In the program's process, between fork and exec: async-signal-safe calls only.
__attribute__((noreturn)) static void become_program(const char *path, char *const argv[], char *const envp[], int out_fd, int status_fd) {
    struct sigaction defaults;
    defaults.sa_handler = SIG_DFL;
    defaults.sa_flags = 0;
    sigemptyset(&defaults.sa_mask);
    for (int s = 1; s < NSIG; s++) sigaction(s, &defaults, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) {
        int error = errno;
        write_all(status_fd, &error, sizeof error);
        _exit(127);
    }
    // Everything from 3 up closes, except the status pipe, which closes itself at exec.
    close_all_except(status_fd, status_fd);
    execve(path, argv, envp);
    int error = errno;
    write_all(status_fd, &error, sizeof error);
    _exit(127);
}

/// In the guardian (a fork of this process, or the meeseeks-guardian program): async-signal-safe
/// calls only. Never returns.
void meeseeks_guardian_main(pid_t parent, const char *path, char *const argv[], char *const envp[], int out_fd, int status_fd) {
    setpgid(0, 0);
    // Nothing of the parent's (sockets, the database, other jobs' pipes) stays open here.
    close_all_except(out_fd, status_fd);
    guardian_parent = parent;
    meeseeks_watch_parent(guardian_on_parent_death);
    if (getppid() != parent) kill(0, SIGKILL);  // the parent died before the request took
    // Termination signals sent to the group are for the program; the guardian outlives it only
    // to report how it ended.
    struct sigaction ignore;
    ignore.sa_handler = SIG_IGN;
    ignore.sa_flags = 0;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGTERM, &ignore, NULL);
    sigaction(SIGINT, &ignore, NULL);
    sigaction(SIGQUIT, &ignore, NULL);
    // vfork, not fork: this process is a copy of the box (or agent), and copying its page tables a
    // second time cost more than the job's own start. The program's process borrows this one's
    // memory until its exec, doing only async-signal-safe calls meanwhile, with every signal
    // blocked until it has reset the handlers it inherited.
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    pid_t program = vfork();
    if (program == 0) become_program(path, argv, envp, out_fd, status_fd);
    int fork_error = errno;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (program < 0) {
        write_all(status_fd, &fork_error, sizeof fork_error);
        _exit(127);
    }
    close(status_fd);
    close(out_fd);
    int status = 0;
    while (waitpid(program, &status, 0) < 0) {
        if (errno != EINTR) _exit(127);
    }
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    int signal = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    struct sigaction defaults;
    defaults.sa_handler = SIG_DFL;
    defaults.sa_flags = 0;
    sigemptyset(&defaults.sa_mask);
    sigaction(signal, &defaults, NULL);
    sigset_t just;
    sigemptyset(&just);
    sigaddset(&just, signal);
    sigprocmask(SIG_UNBLOCK, &just, NULL);
    kill(getpid(), signal);
    _exit(128 + signal);
}

static pid_t await_start(pid_t guardian, int status_read);

int meeseeks_start_helper(pid_t *pid, const char *helper, char *const argv[], char *const envp[], int out_fd, int fd3) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
        posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, fd3, 3);
    posix_spawn_file_actions_addclosefrom_np(&actions, 4);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &all);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    int error = posix_spawn(pid, helper, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return error;
}

pid_t meeseeks_spawn_guarded(const char *path, char *const argv[], char *const envp[], int out_fd) {
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) return -errno;
    // Every signal blocked across fork, so no handler of this process runs in the child before
    // it has set its own.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t parent = getpid();
    pid_t guardian = fork();
    if (guardian == 0) {
        close(status_pipe[0]);
        meeseeks_guardian_main(parent, path, argv, envp, out_fd, status_pipe[1]);
    }
    int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(status_pipe[1]);
    if (guardian < 0) {
        close(status_pipe[0]);
        return -fork_error;
    }
    return await_start(guardian, status_pipe[0]);
}

/// Both ends of the status pipe close on the program's exec (or with the guardian): nothing to
/// read means the program started; an int is the errno of its failed start (the guardian is then
/// reaped). Closes `status_read`.
static pid_t await_start(pid_t guardian, int status_read) {
    int error = 0;
    ssize_t n;
    do {
        n = read(status_read, &error, sizeof error);
    } while (n < 0 && errno == EINTR);
    close(status_read);
    if (n == (ssize_t)sizeof error) {
        int status;
        while (waitpid(guardian, &status, 0) < 0 && errno == EINTR) {}
        return -(error ? error : EIO);
    }
    return guardian;
}

int meeseeks_above_three(int fd, int *moved) {
    *moved = 0;
    if (fd > 3) return fd;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 4);
    if (copy >= 0) *moved = 1;
    return copy;
}

pid_t meeseeks_spawn_guarded_by(const char *helper, const char *path, char *const argv[], char *const envp[], int out_fd) {
    if (helper == NULL) return meeseeks_spawn_guarded(path, argv, envp, out_fd);
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) return -errno;
    // The guardian server first (serve.c); a guardian of the job's own when it started none.
    pid_t served = meeseeks_served_guardian(helper, path, argv, envp, out_fd, status_pipe);
    if (served != 0) {
        if (status_pipe[1] >= 0) close(status_pipe[1]);
        if (served < 0) {
            close(status_pipe[0]);
            return served;
        }
        return await_start(served, status_pipe[0]);
    }
    if (status_pipe[1] < 0) {
        // The request reached a server that started nothing: a fresh pipe for the helper.
        close(status_pipe[0]);
        if (pipe2(status_pipe, O_CLOEXEC) != 0) return -errno;
    }
    int moved_out = 0, moved_status = 0;
    int out = meeseeks_above_three(out_fd, &moved_out);
    int status_write = meeseeks_above_three(status_pipe[1], &moved_status);
    char parent[24];
    snprintf(parent, sizeof parent, "%d", (int)getpid());
    size_t count = 0;
    while (argv[count] != NULL) count++;
    char **helper_argv = calloc(count + 4, sizeof(char *));
    pid_t guardian = -1;
    int error = ENOMEM;
    if (out >= 0 && status_write >= 0 && helper_argv != NULL) {
        helper_argv[0] = (char *)helper;
        helper_argv[1] = parent;
        helper_argv[2] = (char *)path;
        for (size_t i = 0; i < count; i++) helper_argv[3 + i] = argv[i];
        error = meeseeks_start_helper(&guardian, helper, helper_argv, envp, out, status_write);
    } else if (out < 0 || status_write < 0) {
        error = errno;
    }
    free(helper_argv);
    if (moved_out) close(out);
    if (moved_status) close(status_write);
    close(status_pipe[1]);
    if (error != 0) {
        close(status_pipe[0]);
        // The helper is missing or cannot run here: the guardian is a fork of this process.
        if (error == ENOENT || error == EACCES || error == ENOEXEC) return meeseeks_spawn_guarded(path, argv, envp, out_fd);
        return -error;
    }
    return await_start(guardian, status_pipe[0]);
}
