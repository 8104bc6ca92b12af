import CSpawn

/// What a server does to itself before it runs other people's programs.
public enum ProcessHardening {
    /// No core dumps, and its `/proc/<pid>/environ`, `mem` and `maps` closed to other processes of
    /// the same user: a job of the embedded agent cannot read the box's tokens from its
    /// environment. Returns false when the kernel refused.
    @discardableResult
    public static func makeUndumpable() -> Bool {
        meeseeks_set_undumpable() == 0
    }
}
