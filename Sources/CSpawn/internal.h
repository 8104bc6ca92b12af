#ifndef MEESEEKS_CSPAWN_INTERNAL_H
#define MEESEEKS_CSPAWN_INTERNAL_H
// Shared by spawn.c and serve.c; not part of the module's interface.

#include <sys/types.h>

/// For the guardian and its server: `handler` runs on SIGHUP, which the kernel sends when the
/// parent dies (PR_SET_PDEATHSIG; also when the parent's thread that started this process ends,
/// so the handler checks getppid()), and no core dumps, this memory closed to other processes of
/// the same user. Async-signal-safe.
void meeseeks_watch_parent(void (*handler)(int));

/// Starts the meeseeks-guardian program `helper` with posix_spawn: stdin /dev/null, stdout and
/// stderr `out_fd` (or /dev/null when it is -1), `fd3` as descriptor 3 and nothing else open; its
/// own process group from the start (the box may signal it at once, and no terminal's signals
/// reach it); every signal blocked and at its default until it has set up its own handling.
/// Returns posix_spawn's error (0 on success).
int meeseeks_start_helper(pid_t *pid, const char *helper, char *const argv[], char *const envp[], int out_fd, int fd3);

/// `fd` moved to a descriptor above 3 (close-on-exec), so the helper's dup2 onto 1, 2 and 3
/// cannot overwrite it; -1 on failure.
int meeseeks_above_three(int fd, int *moved);

#endif
