import ArgumentParser
import Foundation
import MeeseeksPostgres
import MeeseeksSQLite

extension Meeseeks {
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a box's history from its SQLite file into an empty PostgreSQL database.",
            discussion: """
                Copies jobs (with their output and sealed secrets), dialogs, agents,
                the audit trail, API tokens, the chat outbox, posted messages'
                references and the ledger of chat events, keeping every id, in one
                transaction: all of it or nothing. The target must hold no history
                yet. Stop the box first; the SQLite file is brought up to its latest
                schema, as `serve` would.

                Secrets and open dialogs are copied sealed, as they are: the boxes
                that use the PostgreSQL database must use the same secret key as the
                box that wrote the SQLite file, or they cannot open them.

                The password may be given in the URL or in PGPASSWORD.
                """)

        @Option(name: .long, help: "The SQLite database to copy from: sqlite:PATH (or PATH).")
        var from: String

        @Option(
            name: .long,
            help: "The PostgreSQL database to copy into: postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=disable|require|verify-full].")
        var to: String

        func validate() throws {
            guard !sqlitePath.isEmpty else { throw ValidationError("--from needs a path: sqlite:PATH") }
            // Opening a SQLite path that does not exist would create an empty store, and copy nothing.
            guard FileManager.default.fileExists(atPath: sqlitePath) else { throw ValidationError("\(sqlitePath) does not exist") }
            guard to.hasPrefix("postgres://") || to.hasPrefix("postgresql://") else {
                throw ValidationError("--to must be a postgres:// URL")
            }
        }

        var sqlitePath: String { from.hasPrefix("sqlite:") ? String(from.dropFirst("sqlite:".count)) : from }

        func run() throws {
            let source: SQLiteStore
            do {
                source = try SQLiteStore(path: sqlitePath)
            } catch {
                throw ValidationError("cannot open \(sqlitePath): \(error)")
            }
            let settings: PostgresSettings
            do {
                settings = try PostgresSettings(url: to)
            } catch {
                throw ValidationError("\(error)")
            }
            let target = try PostgresStore(settings: settings)
            defer { target.close() }
            let counts = try target.importHistory(from: SQLiteHistory(database: source.database))
            print("copied \(sqlitePath) into \(settings):")
            for (table, rows) in counts {
                print("  \(table.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(rows)")
            }
        }
    }
}

/// A SQLite store's rows, read a page at a time in the order they were stored.
private struct SQLiteHistory: HistorySource {
    let database: SQLiteDatabase

    func forEachRow(of table: HistoryTable, columns: [String], _ body: ([HistoryValue]) throws -> Void) throws {
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        var after = Int64.min
        while true {
            let rows = try database.query(
                "SELECT rowid, \(list) FROM \(table.rawValue) WHERE rowid > ? ORDER BY rowid LIMIT 500", [.integer(after)])
            guard let last = rows.last else { return }
            for row in rows {
                try body(row.values.dropFirst().map(Self.value))
            }
            after = last.int(0) ?? .max
        }
    }

    private static func value(_ value: SQLiteValue) -> HistoryValue {
        switch value {
        case .null: .null
        case .integer(let v): .integer(v)
        case .real(let v): .real(v)
        case .text(let v): .text(v)
        case .blob(let v): .bytes(v)
        }
    }
}
