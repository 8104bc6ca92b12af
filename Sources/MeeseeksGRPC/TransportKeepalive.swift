public import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The kernel's TCP keepalive on an agent's connection: an idle connection is probed after a third
/// of `lost_after`, then every ninth, and the kernel closes it once `window` seconds have passed
/// since the last packet it got (also when a job sent to a dead host is never acknowledged). A dead
/// host or a cut network thus ends the agent's session within two thirds of `lost_after`, without a
/// single wake-up of the box's own threads: heartbeats can be rare.
public struct TransportKeepalive: Sendable, Equatable {
    public let idle: Int
    public let interval: Int
    public let probes: Int

    public init(lostAfter: Int) {
        // Linux refuses an idle time or interval above 32,767 s.
        idle = min(32_767, max(1, lostAfter / 3))
        interval = min(32_767, max(1, lostAfter / 9))
        probes = 3
    }

    /// The agent's side, set before it knows `lost_after`: idle 10 s, probes 3 s apart. A box that
    /// let the connection go (after a network blip, say) answers the first probe with a reset, so
    /// the agent dials again within ten seconds instead of at its next heartbeat, minutes later in
    /// a big fleet; a dead box is found within 19 s. Answered by the box's kernel: no wake-up of
    /// the box's threads.
    public static let agentSide = TransportKeepalive(lostAfter: 30)

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
                // Milliseconds; unacknowledged data gives up as soon as silent keepalive does.
                (Option(level: tcp, name: SocketOptionName(TCP_USER_TIMEOUT)), min(window, Int(Int32.max) / 1000) * 1000),
            ]
        #endif
        return EventLoopFuture.andAllSucceed(
            options.map { channel.setOption($0.0, value: SocketOptionValue(clamping: $0.1)) }, on: channel.eventLoop
        ).recover(failed)
    }
}
