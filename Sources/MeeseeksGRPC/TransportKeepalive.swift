public import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The kernel's TCP keepalive on an agent's connection: an idle connection is probed after a third
/// of `lost_after`, then every ninth, and the kernel closes it after three unanswered probes,
/// `window` seconds after the last packet it got. A dead host or a cut network thus ends an idle
/// agent's session within two thirds of `lost_after`, without a single wake-up of the box's own
/// threads: heartbeats can be rare. No `TCP_USER_TIMEOUT`: it also drops a connection whose peer
/// reads slowly (a zero window), and a box busy with 10,000 registrations made its agents drop
/// theirs (measured); a connection with data in flight is left to the heartbeats' silence limit.
public struct TransportKeepalive: Sendable, Equatable {
    public let idle: Int
    public let interval: Int
    public let probes: Int

    public init(lostAfter: Int) {
        // Linux refuses an idle time or interval above 32,767 s. Idle as long as a small fleet's
        // heartbeat interval: a connection that heartbeats at that pace is never probed.
        idle = min(32_767, HeartbeatPace.base(lostAfter: lostAfter))
        interval = min(32_767, max(1, lostAfter / 9))
        probes = 3
    }

    /// Seconds within which an ended connection last heard from its peer: the agent was alive then.
    public var window: Int { idle + interval * probes }

    /// Turns it on for an accepted connection. A refused option is told to `failed` and the
    /// connection is kept: its heartbeats still tell when the agent is gone, later.
    public func apply(to channel: any Channel, failed: @escaping @Sendable (any Error) -> Void) -> EventLoopFuture<Void> {
        typealias Option = ChannelOptions.Types.SocketOption
        var options: [(Option, Int)] = [(Option(level: .socket, name: .so_keepalive), 1)]
        #if os(Linux)
            let tcp = SocketOptionLevel(IPPROTO_TCP)
            options += [
                (Option(level: tcp, name: SocketOptionName(TCP_KEEPIDLE)), idle),
                (Option(level: tcp, name: SocketOptionName(TCP_KEEPINTVL)), interval),
                (Option(level: tcp, name: SocketOptionName(TCP_KEEPCNT)), probes),
            ]
        #endif
        return EventLoopFuture.andAllSucceed(
            options.map { channel.setOption($0.0, value: SocketOptionValue(clamping: $0.1)) }, on: channel.eventLoop
        ).recover(failed)
    }
}
