// meeseeks-guardian: started by meeseeks and mrmeeseeks (never by hand) to run jobs. A guardian
// leads one job's process group, kills the whole group if the process that started it dies, and
// exits as the job did. Started with posix_spawn, it costs the box nothing of its memory, where a
// fork of the box copied it.
//
//   meeseeks-guardian --serve PARENT_PID     the server: clones a guardian for each request on
//                                            descriptor 3 (a socket; serve.c)
//   meeseeks-guardian PARENT_PID PROGRAM ARGV0 [ARG...]
//                                            one job's guardian: 1 and 2 the job's output, 3 the
//                                            start-status pipe, the environment the job's
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "cspawn.h"

extern char **environ;

/// A pid as text, or 0. 1 is one: an agent may be the first process of its container.
static long parent_pid(const char *text) {
    char *end = NULL;
    errno = 0;
    long parent = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || parent < 1 || parent > 4194304) return 0;
    return parent;
}

int main(int argc, char *argv[]) {
    // First: requests and jobs' environments pass through here; no core dumps, and this memory
    // closed to other processes of the same user.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int serving = argc == 3 && strcmp(argv[1], "--serve") == 0;
    long parent = serving ? parent_pid(argv[2]) : argc >= 4 ? parent_pid(argv[1]) : 0;
    if (parent == 0 || fcntl(3, F_GETFD) < 0) {
        fprintf(stderr, "meeseeks-guardian runs jobs for meeseeks and mrmeeseeks, which start it; it is not run by hand\n");
        // Started for a job with arguments it refuses: the start fails, rather than looking like
        // a job that printed this and exited 2.
        int error = EINVAL;
        if (!serving && argc >= 4 && fcntl(3, F_GETFD) >= 0 && write(3, &error, sizeof error) < 0) return 2;
        return 2;
    }
    if (serving) meeseeks_guardian_serve((pid_t)parent, 3, argv[1]);
    // The program's start is reported on 3, which must close at its exec.
    if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0) return 127;
    meeseeks_guardian_main((pid_t)parent, argv[2], &argv[3], environ, 1, 3);
}
