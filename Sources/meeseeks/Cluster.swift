import ArgumentParser
import Foundation
import MeeseeksAPI
import MeeseeksClient
import MeeseeksCore

extension Meeseeks {
    struct Cluster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the boxes sharing the database, which one leads, its epoch and its lease.",
            discussion: """
                Every box of a cluster answers; a box on its own SQLite database is a cluster of one. The epoch grows at \
                every change of leader; the lease is renewed about every second and expires after --lease seconds \
                (meeseeks serve) without renewal.
                """)

        @OptionGroup var client: ClientOptions

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            let client = try client.client()
            let cluster = try await clientCall { try await client.cluster() }
            if json { return printJSON(cluster) }
            print("this box: \(cluster.this) (\(cluster.role))")
            print("leader:   \(cluster.leader ?? "none") (epoch \(cluster.epoch))")
            if let age = cluster.leaseAge, let left = cluster.leaseExpiresIn {
                print(String(format: "lease:    renewed %.1fs ago, expires in %.1fs", age, left))
            }
            for member in cluster.members.sorted(by: { $0.id < $1.id }) {
                let mark = member.id == cluster.leader ? "*" : " "
                print(
                    "\(mark) \(member.id)  grpc \(member.grpcAddress)  http \(member.httpAddress)  seen \(String(format: "%.1f", member.age))s ago  \(member.version)"
                )
            }
        }
    }
}
