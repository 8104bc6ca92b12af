/// The version both binaries report (`--version`, agent registration, `meeseeks_build_info`).
public enum BuildVersion {
    public static let current = "0.1.0"
}
