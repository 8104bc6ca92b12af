// meeseeks-guardian: started by meeseeks and mrmeeseeks (never by hand) to run one job. It leads
// the job's process group, kills the whole group if the process that started it dies, and exits
// as the job did. Started with posix_spawn, it costs the box nothing of its memory, where a fork
// of the box copied it. Descriptors: 1 and 2 the job's output, 3 the start-status pipe.
//
//   meeseeks-guardian PARENT_PID PROGRAM ARGV0 [ARG...]     (the environment is the job's)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "cspawn.h"

extern char **environ;

int main(int argc, char *argv[]) {
    char *end = NULL;
    errno = 0;
    long parent = argc >= 4 ? strtol(argv[1], &end, 10) : 0;
    if (argc < 4 || errno != 0 || end == argv[1] || *end != '\0' || parent <= 1 || parent > 4194304 || fcntl(3, F_GETFD) < 0) {
        fprintf(stderr, "meeseeks-guardian runs jobs for meeseeks and mrmeeseeks, which start it; it is not run by hand\n");
        return 2;
    }
    // The program's start is reported on 3, which must close at its exec.
    if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0) return 127;
    meeseeks_guardian_main((pid_t)parent, argv[2], &argv[3], environ, 1, 3);
}
