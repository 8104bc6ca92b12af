#ifndef MEESEEKS_CSPAWN_H
#define MEESEEKS_CSPAWN_H

#include <spawn.h>

/// glibc's posix_spawn_file_actions_addclosefrom_np, which Swift cannot see without _GNU_SOURCE:
/// the child closes every descriptor from `from` up, so a job inherits nothing of the server's.
int meeseeks_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// pipe2 with O_CLOEXEC: both ends close-on-exec from the start, with no window for another
/// spawn to inherit them.
int meeseeks_pipe_cloexec(int fds[2]);

#endif
