public import Metrics
import Synchronization

/// swift-metrics handles, made once per label set: creating one asks the backend to look it up
/// under a lock, which on hot paths (every Slack request, every job) costs more than recording.
public enum MetricCache {
    private struct Key: Hashable {
        var label: String
        var dimensions: [String]
    }

    private static let counters = Mutex<[Key: Counter]>([:])
    private static let timers = Mutex<[Key: Timer]>([:])
    private static let gauges = Mutex<[Key: Gauge]>([:])

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> Key {
        Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
    }

    public static func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter {
        let key = key(label, dimensions)
        return counters.withLock { cache in
            if let known = cache[key] { return known }
            let made = Counter(label: label, dimensions: dimensions)
            cache[key] = made
            return made
        }
    }

    public static func timer(_ label: String, _ dimensions: [(String, String)] = []) -> Timer {
        let key = key(label, dimensions)
        return timers.withLock { cache in
            if let known = cache[key] { return known }
            let made = Timer(label: label, dimensions: dimensions, preferredDisplayUnit: .seconds)
            cache[key] = made
            return made
        }
    }

    public static func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> Gauge {
        let key = key(label, dimensions)
        return gauges.withLock { cache in
            if let known = cache[key] { return known }
            let made = Gauge(label: label, dimensions: dimensions)
            cache[key] = made
            return made
        }
    }
}
