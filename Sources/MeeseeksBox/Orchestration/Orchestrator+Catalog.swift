import Logging
import MeeseeksConfig
import MeeseeksCore
import Metrics

/// The commands agents define themselves: the catalog decides whose definition of a name is
/// the accepted one, the fleet index learns which agents run it, and the live configuration
/// (menus, `help`, the API) shows it unless the operator's files define the name.
extension Orchestrator {
    /// What an agent's own commands came to: run here, defined differently elsewhere first, or
    /// shadowed by the box's command of the same name.
    struct OwnCommandStanding {
        var owns: [String]
        var conflicts: [String]
        var shadowed: [String]
    }

    func standing(of agent: String) -> OwnCommandStanding {
        let base = config.snapshot.base
        let defined = catalog.defines(agent)
        let shadowed = defined.filter { base.command(named: $0) != nil }
        return OwnCommandStanding(
            owns: catalog.owns(agent).subtracting(shadowed).sorted(),
            conflicts: catalog.conflicts(agent).filter { !shadowed.contains($0) },
            shadowed: shadowed.sorted())
    }

    /// Takes `agent`'s whole set of own commands (at registration, or after its SIGHUP).
    func offerCommands(_ agent: String, definitions: [CommandSpec], digests: [String: String]) {
        refreshOwnCommands(catalog.offer(agent, definitions: definitions, digests: digests))
    }

    /// `agent` left: its commands leave the menus unless another agent offers them.
    func withdrawCommands(_ agent: String) {
        refreshOwnCommands(catalog.remove(agent))
    }

    /// The agent of `session` reloaded its commands.
    public func catalogChanged(_ agentID: String, session: String, definitions: [CommandSpec], digests: [String: String]) {
        guard registry.connected[agentID]?.session == session else { return }
        offerCommands(agentID, definitions: definitions, digests: digests)
        logger.info("agent reloaded its commands", metadata: ["agent": "\(agentID)", "commands": "\(definitions.count)"])
        dispatch()
    }

    private func refreshOwnCommands(_ agents: Set<String>) {
        for id in agents {
            guard registry.isConnected(id) else {
                conflictCounts[id] = nil
                continue
            }
            let standing = standing(of: id)
            conflictCounts[id] = standing.conflicts.isEmpty ? nil : standing.conflicts.count
            registry.setOwnCommands(
                of: id, owns: catalog.owns(id), defines: catalog.defines(id), conflicts: standing.conflicts, shadowed: standing.shadowed)
            for name in standing.conflicts {
                logger.warning(
                    "agent defines a command differently from the accepted definition; it gets none of its jobs",
                    metadata: ["agent": "\(id)", "command": "\(name)"])
            }
            for name in standing.shadowed {
                logger.notice(
                    "agent's command is shadowed by the box's command of the same name", metadata: ["agent": "\(id)", "command": "\(name)"])
            }
        }
        if catalog.generation != publishedCatalog {
            publishedCatalog = catalog.generation
            config.setAgentCommands(catalog.commands, retired: catalog.retiredCommands)
        }
        // Kept per agent, so a registration costs the same in a fleet of ten thousand.
        Gauge(label: "meeseeks_agent_command_conflicts").record(conflictCounts.values.reduce(0, +))
    }
}
