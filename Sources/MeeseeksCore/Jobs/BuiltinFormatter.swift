import Foundation

/// Text answers to the built-ins, the same on every surface (renderers put them in code blocks).
public enum BuiltinFormatter {
    public static func jobs(_ jobs: [Job]) -> String {
        guard !jobs.isEmpty else { return "No jobs yet." }
        return jobs.map(line).joined(separator: "\n")
    }

    public static func line(_ job: Job) -> String {
        var text = "#\(job.id)  \(job.command)  \(job.status.rawValue)"
        if let code = job.exitCode { text += " (exit \(code))" }
        if let agent = job.agent, !job.isBroadcast { text += "  on \(agent)" }
        text += "  by \(job.requester)  \(timestamp(job.createdAt))"
        return text
    }

    public static func detail(_ job: Job, children: [Job]) -> String {
        var lines = [
            "Job #\(job.id): \(job.command)", "status: \(job.status.rawValue)\(job.reason.map { " (\($0))" } ?? "")",
            "requested by \(job.requester) at \(timestamp(job.createdAt))",
        ]
        let arguments = job.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        if !arguments.isEmpty { lines.append("arguments: \(arguments.joined(separator: " "))") }
        if !job.selector.isEmpty { lines.append("selector: \(job.selector)") }
        if let agent = job.agent, !job.isBroadcast { lines.append("agent: \(agent)") }
        if let code = job.exitCode { lines.append("exit code: \(code)") }
        if let duration = job.duration { lines.append("duration: \(String(format: "%.2f", duration))s") }
        for child in children { lines.append("  " + line(child)) }
        return lines.joined(separator: "\n")
    }

    public static func agents(_ agents: [AgentRecord]) -> String {
        guard !agents.isEmpty else { return "No agents have connected yet." }
        return agents.map { agent in
            let state = agent.connected ? "connected" : "disconnected since \(timestamp(agent.lastSeen))"
            var line = "\(agent.id)  \(agent.labels)  \(state)  slots \(agent.busy)/\(agent.slots)"
            line += "  commands \(agent.commands.isEmpty ? "(own only)" : agent.commands.joined(separator: ","))"
            if !agent.owns.isEmpty { line += "  own \(agent.owns.joined(separator: ","))" }
            if !agent.conflicts.isEmpty {
                line += "  CONFLICT \(agent.conflicts.joined(separator: ",")) (defined differently by another agent first)"
            }
            if !agent.shadowed.isEmpty { line += "  shadowed \(agent.shadowed.joined(separator: ",")) (the box defines them)" }
            if !agent.verifiesTwoFactor { line += "  no-2fa" }
            return line + "  v\(agent.version)"
        }.joined(separator: "\n")
    }

    public static func audit(_ entries: [AuditEntry]) -> String {
        guard !entries.isEmpty else { return "No audit entries match." }
        return entries.map { entry in
            let r = entry.record
            var text = "\(timestamp(entry.time))  \(r.action.rawValue)  \(r.user)  \(r.outcome)"
            if let command = r.command { text += "  command=\(command)" }
            if let job = r.jobID { text += "  job=#\(job)" }
            if let reason = r.reason { text += "  reason=\(reason)" }
            if let detail = r.detail { text += "  (\(detail))" }
            return text
        }.joined(separator: "\n")
    }

    public static func timestamp(_ time: Double) -> String {
        Date(timeIntervalSince1970: time).formatted(.iso8601)
    }
}
