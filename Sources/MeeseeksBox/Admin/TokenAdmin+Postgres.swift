extension TokenAdmin {
    static func openPostgres(_ location: DatabaseLocation) throws(Problem) -> TokenAdmin {
        throw Problem(description: "\(location): PostgreSQL support is not built into this meeseeks")
    }
}

extension BoxServer {
    func openClusterStore(_ location: DatabaseLocation) throws -> any ClusterStore {
        throw StartupError(description: "\(location): PostgreSQL support is not built into this meeseeks")
    }
}
