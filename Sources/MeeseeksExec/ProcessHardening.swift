import CSpawn
import Glibc

/// What a server does to itself before it runs other people's programs.
public enum ProcessHardening {
    /// No core dumps, and its `/proc/<pid>/environ`, `mem` and `maps` closed to other processes of
    /// the same user: a job of the embedded agent cannot read the box's tokens from its
    /// environment. Returns false when the kernel refused.
    @discardableResult
    public static func makeUndumpable() -> Bool {
        meeseeks_set_undumpable() == 0
    }

    /// A write past the file-size limit (RLIMIT_FSIZE) fails with EFBIG, which the store turns
    /// into a refusal, instead of killing the whole box with SIGXFSZ. Jobs' processes start with
    /// every signal back at its default.
    public static func surviveFileSizeLimit() {
        signal(SIGXFSZ, SIG_IGN)
    }
}
