public import Hummingbird
public import MeeseeksAPI

/// Numbers taken from a query string, checked before use: a malformed or out-of-range value is a
/// 400 that names the parameter and its range. Never a trap, never a silent default.
public struct QueryNumbers: Sendable {
    let parameters: Parameters

    public init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    /// A whole number in `range`, or `fallback` when the parameter is absent.
    public func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(API.Failure) -> Int {
        guard let text = parameters.get(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw API.Failure(.badRequest, "'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A finite number of seconds in `range`, or `fallback` when absent (NaN and infinity are refused).
    public func seconds(_ name: String, default fallback: Double, in range: ClosedRange<Double>) throws(API.Failure) -> Double {
        guard let text = parameters.get(name) else { return fallback }
        guard text.count <= 32, let value = Double(text), value.isFinite, range.contains(value) else {
            throw API.Failure(
                .badRequest, "'\(name)' must be a number from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))")
        }
        return value
    }

    /// An optional finite number (a time in seconds since 1970, say).
    public func optionalNumber(_ name: String) throws(API.Failure) -> Double? {
        guard parameters.get(name) != nil else { return nil }
        return try seconds(name, default: 0, in: -1e12...1e12)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
