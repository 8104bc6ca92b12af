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

#endif
