import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels
import Testing

/// The fleet index must answer exactly as a scan of the whole fleet: random fleets and random
/// selectors, seeded, compared decision by decision.
@Suite("The fleet index answers as a scan does")
struct FleetIndexTests {
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let keys = ["env", "role", "zone", "rack"]
    static let values = ["a", "b", "c"]

    func fleet(_ random: inout Random, size: Int) -> [AgentInfo] {
        (0..<size).map { n in
            var labels: [String: String] = [:]
            for key in Self.keys where Bool.random(using: &random) { labels[key] = Self.values.randomElement(using: &random)! }
            let commands = Bool.random(using: &random) ? ["*"] : ["hello", "deploy-*"]
            return AgentInfo(id: "agent-\(n)", labels: LabelSet(labels), commands: commands)
        }
    }

    func selector(_ random: inout Random) -> LabelSelector {
        let count = Int.random(in: 0...2, using: &random)
        let requirements = (0..<count).map { _ -> Requirement in
            let key = Self.keys.randomElement(using: &random)!
            let op = Requirement.Operator.allCases.randomElement(using: &random)!
            let values: [String]
            switch op {
            case .in, .notIn: values = Array(Self.values.shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)))
            case .equals, .doubleEquals, .notEquals: values = [Self.values.randomElement(using: &random)!]
            case .exists, .doesNotExist: values = []
            }
            return Requirement(key: key, op: op, values: values)
        }
        return LabelSelector(requirements)
    }

    @Test("agents(matchingAll:), hasAgent and round robin agree with a scan", arguments: [1, 2, 3, 4, 5])
    func agreement(seed: UInt64) {
        var random = Random(state: seed)
        let agents = fleet(&random, size: 60)
        var index = FleetIndex(agents)
        // Some agents leave, and come back: the index is kept, not rebuilt.
        for gone in agents.shuffled(using: &random).prefix(10) { index.remove(gone.id) }
        let present = agents.filter { index.agent($0.id) != nil }
        for _ in 0..<300 {
            let selectors = (0..<Int.random(in: 1...3, using: &random)).map { _ in selector(&random) }
            #expect(index.agents(matchingAll: selectors) == present.agents(matchingAll: selectors))
            #expect(index.hasAgent(matchingAll: selectors) == present.hasAgent(matchingAll: selectors))
            let last = Bool.random(using: &random) ? present.randomElement(using: &random)?.id : nil
            let accept: (AgentInfo) -> Bool = { $0.id.hasSuffix("1") || $0.id.hasSuffix("7") }
            #expect(
                index.nextAgent(after: last, matchingAll: selectors, where: accept)
                    == present.nextAgent(after: last, matchingAll: selectors, where: accept))
            let limit = Int.random(in: 0...4, using: &random)
            #expect(
                index.agents(matchingAll: selectors, limit: limit, where: accept)
                    == Array(present.agents(matchingAll: selectors).filter(accept).prefix(limit)))
        }
    }

    @Test("the policy engine decides the same on the index as on a list", arguments: [11, 12, 13])
    func authorizeAgreement(seed: UInt64) {
        var random = Random(state: seed)
        let agents = fleet(&random, size: 40)
        let index = FleetIndex(agents)
        for _ in 0..<200 {
            let policy = PolicySet(
                roles: ["sre": Role(name: "sre", members: [.user("U1")])],
                grants: [
                    Grant(roles: ["sre"], commands: ["*"], on: selector(&random)),
                    Grant(roles: ["sre"], commands: ["hello"], on: selector(&random)),
                ])
            let engine = PolicyEngine(policy: policy)
            let command = CommandSpec(
                name: Bool.random(using: &random) ? "hello" : "restart", summary: "s", action: .run([Template("/bin/true")]),
                selector: selector(&random))
            let request = selector(&random)
            let whole = engine.authorize(user: "U1", command: command, requestSelector: request, agents: agents)
            #expect(engine.authorize(user: "U1", command: command, requestSelector: request, agents: index) == whole)
            // A limit names the first targets of the whole decision, and refuses for the same reason.
            let limit = Int.random(in: 1...3, using: &random)
            let limited = engine.authorize(user: "U1", command: command, requestSelector: request, agents: index, targetLimit: limit)
            switch whole {
            case .allowed(let targets, let grants): #expect(limited == .allowed(targets: Array(targets.prefix(limit)), grants: grants))
            case .refused: #expect(limited == whole)
            }
        }
    }
}
