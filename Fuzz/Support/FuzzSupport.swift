import CLibFuzzer

#if canImport(Glibc)
    import Glibc
#endif

/// What libFuzzer calls with each input; `LLVMFuzzerTestOneInput` has this type.
public typealias FuzzTest = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Hands the process to libFuzzer's driver, which reads its flags and inputs from the command line.
///
/// SwiftPM links executables with `main` renamed to the module's own entry point, so libFuzzer's
/// `main` is never linked: each target's `main.swift` calls this instead.
public func runLibFuzzer(_ test: FuzzTest) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}

/// The input as bytes (libFuzzer may pass a null pointer for the empty input).
public func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// UTF-8 text, invalid sequences replaced, as every text input arrives in the box.
public func text(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// A broken property is a crash, so libFuzzer saves the input that broke it.
public func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
