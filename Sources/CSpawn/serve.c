// The guardian server: one meeseeks-guardian per box or agent that starts every job's guardian,
// instead of one posix_spawn and exec of meeseeks-guardian per job. The exec was the biggest
// single cost of a job's start (mapping the program, glibc's start-up, CPUID exits in a VM).
//
// The server clones itself with CLONE_PARENT: the guardian is the agent's own child, so the agent
// waits for it, reads its pidfd and signals its group as before, and the guardian dies with the
// agent as before. It is a copy of the server, though, not of the agent: it has the working
// folder, limits, umask and cgroup the agent had when the server started (at its first job). The
// server only forks small copies of a small static program.
//
// A request is one SOCK_SEQPACKET message: a header (argc, envc), then 1 + argc + envc
// NUL-terminated strings (the program's path, its argv, its environment), with two descriptors
// (the job's output and the start-status pipe) in SCM_RIGHTS. The guardian writes its own pid to
// the status pipe before anything else, so the agent learns what started from the pipe, even when
// the server dies before it answers. The answer is an int32 (the guardian's pid, or -errno) that
// keeps the two in step; the server says 0 once when it is ready.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cspawn.h"
#include "internal.h"

enum {
    REQUEST_MAX = 64 * 1024,  // larger requests (a huge environment) use a guardian of their own
    STRINGS_MAX = 4096,
    REPLY_SECONDS = 5,  // a clone takes well under a millisecond: a server this slow is killed
};

struct request_header {
    uint32_t argc;
    uint32_t envc;
};

static pid_t serve_parent;
/// The server's `--serve` argument, which each guardian overwrites so that `ps` tells them apart.
static char *serve_word;

static void serve_on_parent_death(int signal) {
    (void)signal;
    if (getppid() != serve_parent) _exit(0);
}

static void reply(int socket, int32_t answer) {
    while (send(socket, &answer, sizeof answer, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

/// Points `strings` at the NUL-terminated strings of `data` (`count` of them, ending exactly at
/// `size`). 0 when the request is well formed.
static int split_strings(char *data, size_t size, char **strings, size_t count) {
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        if (at >= size) return -1;
        char *end = memchr(data + at, '\0', size - at);
        if (end == NULL) return -1;
        strings[i] = data + at;
        at = (size_t)(end - data) + 1;
    }
    return at == size ? 0 : -1;
}

/// Starts one guardian for a received request; returns its pid or -errno. Closes `out_fd` and
/// `status_fd` in the server.
static int32_t start_guardian(char *buffer, size_t size, int out_fd, int status_fd) {
    static char *parts[STRINGS_MAX + 1], *argv[STRINGS_MAX + 1], *envp[STRINGS_MAX + 1];
    struct request_header header;
    int32_t answer = -EINVAL;
    if (size < sizeof header) goto done;
    memcpy(&header, buffer, sizeof header);
    if (header.argc < 1 || header.argc > STRINGS_MAX || header.envc > STRINGS_MAX - header.argc) goto done;
    size_t argc = header.argc, envc = header.envc;
    if (split_strings(buffer + sizeof header, size - sizeof header, parts, 1 + argc + envc) != 0) goto done;
    memcpy(argv, parts + 1, argc * sizeof(char *));
    argv[argc] = NULL;
    memcpy(envp, parts + 1 + argc, envc * sizeof(char *));
    envp[envc] = NULL;
    // Every signal blocked across the clone: the guardian sets its own handling first.
    sigset_t all, previous;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &previous);
    // A fork that makes the agent the parent (a stack of 0: the child goes on on a copy of this one).
    // The exit signal is the server's own, SIGCHLD.
#if defined(__s390__) || defined(__s390x__)
    long pid = syscall(SYS_clone, 0, CLONE_PARENT | SIGCHLD, 0, 0, 0);
#else
    long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
#endif
    if (pid == 0) {
        pid_t self = getpid();
        if (write(status_fd, &self, sizeof self) != (ssize_t)sizeof self) _exit(127);  // 4 bytes: atomic
        size_t length = serve_word != NULL ? strlen(serve_word) : 0;
        if (length >= 5) {
            memset(serve_word, 0, length);
            memcpy(serve_word, "--job", 5);
        }
        meeseeks_guardian_main(serve_parent, parts[0], argv, envp, out_fd, status_fd);
    }
    answer = pid > 0 ? (int32_t)pid : -errno;
    sigprocmask(SIG_SETMASK, &previous, NULL);
done:
    close(out_fd);
    close(status_fd);
    return answer;
}

void meeseeks_guardian_serve(pid_t parent, int socket, char *argument) {
    serve_parent = parent;
    serve_word = argument;
    // Requests carry jobs' environments: undumpable too.
    meeseeks_watch_parent(serve_on_parent_death);
    if (getppid() != parent) _exit(0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    static char buffer[REQUEST_MAX];
    reply(socket, 0);
    for (;;) {
        union {
            struct cmsghdr header;
            char space[CMSG_SPACE(2 * sizeof(int))];
        } control;
        struct iovec vector = {.iov_base = buffer, .iov_len = sizeof buffer};
        struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
        ssize_t n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(0);  // the agent closed its end, or is gone
        int fds[2] = {-1, -1};
        size_t received = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (received < 2) fds[received] = fd;
                else close(fd);
                received++;
            }
        }
        int32_t answer;
        if (received != 2 || (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
            if (fds[0] >= 0) close(fds[0]);
            if (fds[1] >= 0) close(fds[1]);
            answer = -EINVAL;
        } else {
            answer = start_guardian(buffer, (size_t)n, fds[0], fds[1]);
        }
        explicit_bzero(buffer, (size_t)n);  // the next guardian is a copy of this memory
        reply(socket, answer);
    }
}

// The agent's side: one server per process, started at its first job, shared by every thread.

static pthread_mutex_t served_lock = PTHREAD_MUTEX_INITIALIZER;
static int served_socket = -1;
static pid_t served_pid = 0;
static int served_refused = 0;  // the helper ended before it was ready (it cannot serve): never again

static void served_stop_locked(void) {
    if (served_socket >= 0) close(served_socket);
    served_socket = -1;
    if (served_pid > 0) {
        kill(served_pid, SIGKILL);
        while (waitpid(served_pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    served_pid = 0;
}

/// 0 with an answer; -1 when the server closed its end; -2 when it did not answer in time.
static int receive_answer(int32_t *answer) {
    ssize_t n;
    do {
        n = recv(served_socket, answer, sizeof *answer, 0);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof *answer) return 0;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? -2 : -1;
}

static int served_start_locked(const char *helper) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    char parent[24], *argv[] = {(char *)helper, "--serve", parent, NULL}, *envp[] = {NULL};
    snprintf(parent, sizeof parent, "%d", (int)getpid());
    pid_t pid = -1;
    int moved = 0;
    int end = meeseeks_above_three(pair[1], &moved);
    int error = end < 0 ? errno : meeseeks_start_helper(&pid, helper, argv, envp, -1, end);
    if (moved) close(end);
    close(pair[1]);
    served_socket = pair[0];
    served_pid = error == 0 ? pid : 0;
    if (error != 0) {
        served_stop_locked();
        return -1;
    }
    struct timeval wait = {.tv_sec = REPLY_SECONDS, .tv_usec = 0};
    int big = 4 * REQUEST_MAX;  // room for a whole request (capped by net.core.wmem_max)
    setsockopt(served_socket, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    int32_t ready = -1;
    int received = setsockopt(served_socket, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait) == 0 ? receive_answer(&ready) : -2;
    if (received != 0 || ready != 0) {
        // Ended before it was ready: a helper that cannot serve. Slow: tried again at the next job.
        if (received == -1) served_refused = 1;
        served_stop_locked();
        return -1;
    }
    return 0;
}

/// Sends the request to the server (started if need be). 1 when a server got it, 0 when none did.
static int served_send(const char *helper, struct msghdr *message) {
    int delivered = 0;
    pthread_mutex_lock(&served_lock);
    // Twice at most: a request that could not be delivered because the server had died goes to a
    // new one.
    for (int attempt = 0; attempt < 2 && !served_refused; attempt++) {
        if (served_socket < 0 && served_start_locked(helper) != 0) break;
        ssize_t sent;
        do {
            sent = sendmsg(served_socket, message, MSG_NOSIGNAL);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0) {
            if (errno == EMSGSIZE || errno == ENOBUFS || errno == ENOMEM) break;  // the server is fine
            served_stop_locked();
            continue;
        }
        delivered = 1;
        int32_t answer;
        // No answer: the server died or hangs, and is replaced at the next job. Whether it
        // started a guardian first, the status pipe tells.
        if (receive_answer(&answer) != 0) served_stop_locked();
        break;
    }
    pthread_mutex_unlock(&served_lock);
    return delivered;
}

pid_t meeseeks_served_guardian(const char *helper, const char *path, char *const argv[], char *const envp[], int out_fd, int status_fd[2]) {
    size_t argc = 0, envc = 0, size = sizeof(struct request_header) + strlen(path) + 1;
    for (; argv[argc] != NULL; argc++) size += strlen(argv[argc]) + 1;
    for (; envp[envc] != NULL; envc++) size += strlen(envp[envc]) + 1;
    if (argc < 1 || size > REQUEST_MAX || argc + envc > STRINGS_MAX) return 0;
    char *request = malloc(size);
    if (request == NULL) return 0;
    struct request_header header = {.argc = (uint32_t)argc, .envc = (uint32_t)envc};
    memcpy(request, &header, sizeof header);
    char *at = request + sizeof header;
    at = stpcpy(at, path) + 1;
    for (size_t i = 0; i < argc; i++) at = stpcpy(at, argv[i]) + 1;
    for (size_t i = 0; i < envc; i++) at = stpcpy(at, envp[i]) + 1;
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(2 * sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec vector = {.iov_base = request, .iov_len = size};
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
    struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(2 * sizeof(int));
    int fds[2] = {out_fd, status_fd[1]};
    memcpy(CMSG_DATA(rights), fds, sizeof fds);
    int delivered = served_send(helper, &message);
    explicit_bzero(request, size);
    free(request);
    if (!delivered) return 0;
    // Every other copy of the write end is the server's (closed once it answered, or with it) or
    // the guardian's: the pipe now holds the guardian's pid, or ends empty when none started.
    close(status_fd[1]);
    status_fd[1] = -1;
    pid_t guardian = 0;
    ssize_t n;
    do {
        n = read(status_fd[0], &guardian, sizeof guardian);
    } while (n < 0 && errno == EINTR);
    if (n == 0) return 0;  // nothing started: the caller starts a guardian of the job's own
    // Only a child of this process is trusted with the job (and signalled as its group).
    siginfo_t info;
    if (n != (ssize_t)sizeof guardian || guardian <= 0 || waitid(P_PID, (id_t)guardian, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -EIO;
    // The guardian makes itself a group leader too: whichever comes first, the group exists
    // before the agent may signal it.
    setpgid(guardian, guardian);
    return guardian;
}
