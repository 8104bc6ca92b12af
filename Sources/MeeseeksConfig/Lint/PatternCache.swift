import Synchronization

/// Compiled argument patterns, by source: compiling a regular expression costs far more than
/// matching one, and configurations repeat their patterns.
enum PatternCache {
    /// A compiled pattern. `Regex` is an immutable value whose matching shares nothing mutable, so
    /// handing one between threads is safe even though the type does not say so.
    struct Compiled: @unchecked Sendable {
        let regex: Regex<AnyRegexOutput>
    }

    struct PatternError: Error, CustomStringConvertible {
        var description: String
    }

    private static let compiled = Mutex<[String: Result<Compiled, PatternError>]>([:])

    static func regex(_ pattern: String) -> Result<Regex<AnyRegexOutput>, PatternError> {
        if let known = compiled.withLock({ $0[pattern] }) { return known.map(\.regex) }
        let result: Result<Compiled, PatternError>
        do {
            result = .success(Compiled(regex: try Regex(pattern)))
        } catch {
            result = .failure(PatternError(description: "\(error)"))
        }
        compiled.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[pattern] = result
        }
        return result.map(\.regex)
    }
}
