import Foundation
import NIOCore
import PostgresNIO

/// Where the store's database is and how to reach it, read from a URL:
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|require|verify-full][&sslrootcert=PATH]
///
/// The password comes from the URL or, when the URL has none, from `PGPASSWORD`. `sslmode` is
/// libpq's: `require` encrypts without checking the server's certificate, `verify-full` checks
/// it against the system's trust roots (or `sslrootcert`) and the host name; the default is
/// `disable`. The password never appears in `description` nor in any error.
public struct PostgresSettings: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable
        /// Encrypted; the server's certificate is not checked (libpq's `require`).
        case require
        /// Encrypted; the certificate chain and the host name are verified.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var tls: TLSMode
    /// PEM file of the certificate authorities `verify-full` trusts instead of the system's.
    public var rootCertificatePath: String?
    /// How many connections statements share (the pool's bound).
    public var poolSize: Int = 4
    /// How long a statement waits for a free connection before failing.
    public var checkoutTimeout: Duration = .seconds(30)
    /// How long one statement may take before its connection is closed and it fails: a
    /// partitioned database must not hang the orchestrator for ever.
    public var statementTimeout: Duration = .seconds(15)
    /// Shown in `pg_stat_activity`.
    public var applicationName = "meeseeks"
    var password: String?

    public init(
        host: String, port: Int = 5432, user: String, password: String? = nil, database: String, tls: TLSMode = .disable,
        rootCertificatePath: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.rootCertificatePath = rootCertificatePath
    }

    /// Reads a `postgres://` (or `postgresql://`) URL.
    ///
    /// - Parameters:
    ///   - url: The URL; user, password and database may be percent-encoded.
    ///   - environment: Where `PGPASSWORD` is looked up when the URL has no password.
    /// - Throws: `PostgresStoreError` (`.invalidURL`) naming what is wrong, never the password.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func invalid(_ why: String) -> PostgresStoreError {
            PostgresStoreError(
                .invalidURL, "\(why); expected postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=disable|require|verify-full]")
        }
        guard let schemeEnd = url.range(of: "://"), ["postgres", "postgresql"].contains(url[..<schemeEnd.lowerBound].lowercased())
        else { throw invalid("the database URL must start with postgres://") }
        var rest = url[schemeEnd.upperBound...]
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw invalid("the database URL names no database") }
        let authority = rest[..<slash]
        guard let database = Self.decode(rest[rest.index(after: slash)...]), !database.isEmpty else {
            throw invalid("the database URL names no database")
        }
        guard let at = authority.lastIndex(of: "@") else { throw invalid("the database URL names no user") }
        let credentials = authority[..<at]
        let userPart = credentials.firstIndex(of: ":").map { credentials[..<$0] } ?? credentials
        guard let user = Self.decode(userPart), !user.isEmpty else { throw invalid("the database URL names no user") }
        var password: String?
        if let colon = credentials.firstIndex(of: ":") {
            guard let decoded = Self.decode(credentials[credentials.index(after: colon)...]) else {
                throw invalid("the password in the database URL is not valid percent-encoding")
            }
            password = decoded
        }
        let (host, port) = try Self.hostAndPort(authority[authority.index(after: at)...], invalid: invalid)
        self.init(host: host, port: port, user: user, password: password ?? environment["PGPASSWORD"], database: database)
        for parameter in query.split(separator: "&") where !parameter.isEmpty {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            let value = pair.count == 2 ? (Self.decode(pair[1][...]) ?? "") : ""
            switch pair[0] {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw invalid("sslmode '\(value)' is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            case "sslrootcert":
                rootCertificatePath = value
            default:
                throw invalid("unknown parameter '\(pair[0])' (known: sslmode, sslrootcert)")
            }
        }
    }

    private static func hostAndPort(
        _ text: Substring, invalid: (String) -> PostgresStoreError
    ) throws -> (String, Int) {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            // An IPv6 address: [::1]:5432.
            guard let close = text.firstIndex(of: "]") else { throw invalid("unclosed '[' in the host") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw invalid("junk after the host") }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw invalid("the database URL names no host") }
        guard let portText else { return (String(host), 5432) }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw invalid("port '\(portText)' is not a number from 1 to 65535")
        }
        return (String(host), port)
    }

    /// Percent-decoding; nil for a malformed escape.
    private static func decode(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        return String(text).removingPercentEncoding
    }

    /// The URL without its password.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var text = "postgres://\(user)@\(hostPart):\(port)/\(database)"
        if tls != .disable { text += "?sslmode=\(tls.rawValue)" }
        return text
    }

    /// postgres-nio's configuration, with a TLS context made for `tls`.
    func connectionConfiguration(applicationName: String? = nil) throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try makeTLS())
        configuration.options.additionalStartupParameters = [("application_name", applicationName ?? self.applicationName)]
        return configuration
    }

    private func makeTLS() throws -> PostgresConnection.Configuration.TLS {
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable:
            return .disable
        case .require:
            tlsConfiguration.certificateVerification = .none
        case .verifyFull:
            tlsConfiguration.certificateVerification = .fullVerification
            if let rootCertificatePath { tlsConfiguration.trustRoots = .file(rootCertificatePath) }
        }
        do {
            return .require(try NIOSSLContext(configuration: tlsConfiguration))
        } catch {
            throw PostgresStoreError(.connectionFailed, "cannot set up TLS for \(self)", cause: error)
        }
    }
}
