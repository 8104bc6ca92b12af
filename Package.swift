// swift-tools-version:6.2
import PackageDescription

// One settings array for every target, as Hummingbird does.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "meeseeks-box",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "meeseeks", targets: ["meeseeks"]),
        .executable(name: "mrmeeseeks", targets: ["mrmeeseeks"]),
        .executable(name: "meeseeks-guardian", targets: ["meeseeks-guardian"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    ],
    targets: [
        // C libraries from Debian.
        .systemLibrary(
            name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),

        // glibc's spawn extensions, which need _GNU_SOURCE, and the guardian that leads each job.
        .target(name: "CSpawn", path: "Sources/CSpawn"),
        // The guardian as its own small program, started with posix_spawn (no copy of the box).
        // Static: SwiftPM would link the Swift runtime into it, and loading that at every job's
        // start halved the jobs a box runs per second.
        .executableTarget(
            name: "meeseeks-guardian", dependencies: ["CSpawn"], linkerSettings: [.unsafeFlags(["-static-executable"])]),

        // Config → Core: pure, no I/O beyond reading configuration files.
        .target(name: "MeeseeksLabels", swiftSettings: swiftSettings),
        .target(name: "MeeseeksConfig", dependencies: ["MeeseeksLabels", "CYAML"], swiftSettings: swiftSettings),
        .target(
            name: "MeeseeksCore",
            dependencies: [
                "MeeseeksLabels", "MeeseeksConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),

        // Adapters: each imports Core and its own technology, never each other.
        .target(name: "MeeseeksSQLite", dependencies: ["MeeseeksCore", "CSQLite"], swiftSettings: swiftSettings),
        .target(
            name: "MeeseeksPostgres",
            dependencies: [
                "MeeseeksCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "MeeseeksExec", dependencies: ["CSpawn", "MeeseeksConfig", "MeeseeksCore"],
            swiftSettings: swiftSettings),
        // The JSON API's types, shared by the server and the CLI's client (no server linked).
        .target(name: "MeeseeksAPI", dependencies: ["MeeseeksCore"], swiftSettings: swiftSettings),
        .target(
            name: "MeeseeksHTTP",
            dependencies: [
                "MeeseeksCore", "MeeseeksAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "MeeseeksSlack",
            dependencies: [
                "MeeseeksCore", "MeeseeksConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "MeeseeksGRPC",
            dependencies: [
                "MeeseeksConfig", "MeeseeksCore", "MeeseeksLabels",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),

        // Sealing secrets at rest with the box's key (AES-GCM).
        .target(
            name: "MeeseeksVault", dependencies: ["MeeseeksCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),

        // The CLI's client of the box's JSON API.
        .target(
            name: "MeeseeksClient",
            dependencies: [
                "MeeseeksAPI", "MeeseeksCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings),

        // TOTP, the agents' secrets file, replay and lock-out state.
        .target(
            name: "MeeseeksTwoFactor", dependencies: ["MeeseeksCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),

        // A logfmt / JSON log handler the executables bootstrap.
        .target(
            name: "MeeseeksLogging", dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),

        // Wiring.
        .target(
            name: "MeeseeksBox",
            dependencies: [
                "MeeseeksLabels", "MeeseeksConfig", "MeeseeksCore", "MeeseeksSQLite", "MeeseeksExec", "MeeseeksAPI", "MeeseeksHTTP",
                "MeeseeksTwoFactor",
                "MeeseeksSlack", "MeeseeksGRPC", "MeeseeksVault", "MeeseeksPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "MeeseeksAgent",
            dependencies: [
                "MeeseeksConfig", "MeeseeksCore", "MeeseeksExec", "MeeseeksGRPC", "MeeseeksTwoFactor", "MeeseeksHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // Test doubles: every store port in memory, a manual clock, a fake agent link. Used only by tests.
        .target(name: "MeeseeksTesting", dependencies: ["MeeseeksCore"], swiftSettings: swiftSettings),

        // Executables: parse options and call in.
        .executableTarget(
            name: "meeseeks",
            dependencies: [
                "MeeseeksBox", "MeeseeksConfig", "MeeseeksCore", "MeeseeksAPI", "MeeseeksClient", "MeeseeksSQLite", "MeeseeksSlack",
                "MeeseeksLogging", "MeeseeksTwoFactor", "MeeseeksPostgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "mrmeeseeks",
            dependencies: [
                "MeeseeksAgent", "MeeseeksConfig", "MeeseeksCore", "MeeseeksLabels", "MeeseeksLogging",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),

        // A load generator for the benchmarks: thousands of simulated agents on the real protocol.
        .executableTarget(
            name: "meeseeks-swarm",
            dependencies: [
                "MeeseeksGRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Benchmarks/AgentSwarm", swiftSettings: swiftSettings),

        // How the fuzz targets read their inputs, so the tests replay saved ones the same way.
        .target(name: "FuzzInputs", path: "Fuzz/Inputs", swiftSettings: swiftSettings),

        .testTarget(name: "MeeseeksLabelsTests", dependencies: ["MeeseeksLabels"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeeseeksBoxTests",
            dependencies: [
                "MeeseeksBox", "MeeseeksCore", "MeeseeksConfig", "MeeseeksLabels", "MeeseeksTesting", "MeeseeksVault",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "MeeseeksConfigTests", dependencies: ["MeeseeksConfig", "FuzzInputs"], swiftSettings: swiftSettings),
        .testTarget(name: "MeeseeksCoreTests", dependencies: ["MeeseeksCore"], swiftSettings: swiftSettings),
        .testTarget(name: "MeeseeksGRPCTests", dependencies: ["MeeseeksGRPC"], swiftSettings: swiftSettings),
        .testTarget(name: "MeeseeksExecTests", dependencies: ["MeeseeksExec", "MeeseeksCore"], swiftSettings: swiftSettings),
        .testTarget(name: "MeeseeksSlackTests", dependencies: ["MeeseeksSlack", "FuzzInputs"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeeseeksSQLiteTests", dependencies: ["MeeseeksSQLite", "MeeseeksCore", "MeeseeksVault"], swiftSettings: swiftSettings),
        // One conformance suite per store port, run against every store (SQLite, PostgreSQL, in memory).
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: [
                "MeeseeksCore", "MeeseeksLabels", "MeeseeksSQLite", "MeeseeksPostgres", "MeeseeksTesting", "MeeseeksVault",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MeeseeksPostgresTests",
            dependencies: ["MeeseeksPostgres", "MeeseeksSQLite", "MeeseeksCore", "MeeseeksLabels", "MeeseeksVault"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MeeseeksHTTPTests",
            dependencies: [
                "MeeseeksHTTP", "MeeseeksAPI", "MeeseeksCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "MeeseeksTwoFactorTests", dependencies: ["MeeseeksTwoFactor"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "MeeseeksClient", "MeeseeksAPI", "MeeseeksCore", "MeeseeksConfig", "MeeseeksTwoFactor",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
    ]
)

// Fuzz targets (scripts/fuzz), one per untrusted input. Built with `-sanitize=fuzzer` they link
// libFuzzer, and SwiftPM's renamed `main` hands control to its driver; without that flag they
// cannot link, so they join the package only when MEESEEKS_FUZZ=1.
if Context.environment["MEESEEKS_FUZZ"] == "1" {
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/Support", swiftSettings: swiftSettings),
    ]
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzConfig", ["MeeseeksConfig"]),
        ("FuzzJSON", ["MeeseeksSlack"]),
        ("FuzzSlack", ["MeeseeksSlack", "MeeseeksCore"]),
        ("FuzzSelector", ["MeeseeksLabels"]),
        ("FuzzRequest", ["MeeseeksCore", "MeeseeksConfig", "MeeseeksLabels"]),
        (
            "FuzzAgentReport",
            [
                "MeeseeksGRPC", "MeeseeksCore", "MeeseeksConfig", "MeeseeksLabels",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: target.name, dependencies: ["FuzzSupport", "FuzzInputs"] + target.dependencies,
                path: "Fuzz/Targets/\(target.name)", swiftSettings: swiftSettings))
    }
}
