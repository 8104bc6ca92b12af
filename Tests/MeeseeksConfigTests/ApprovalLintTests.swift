import Foundation
import MeeseeksConfig
import Testing

@Suite("Approval: decoded, and lint says when nobody could approve")
struct ApprovalLintTests {
    static let policy = """
        roles:
          ops: {members: [U0OPS, U0OPS2]}
          lead: {members: [U0LEAD]}
        grants:
          - {roles: [ops, lead], commands: ["*"]}

        """

    func command(_ approval: String) -> String {
        "name: deploy\nsummary: Deploy\nrun: [/bin/true]\napproval: \(approval)\n"
    }

    @Test("a valid approval decodes with its defaults, and lint is clean")
    func valid() throws {
        let dir = TemporaryDirectory().write([
            "commands.d/deploy.yaml": command("{roles: [lead, ops], timeout: 10m}"), "policies.d/base.yaml": Self.policy,
        ])
        let result = ConfigLoader.load(directory: dir.path)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let approval = try #require(result.configuration?.command(named: "deploy")?.approval)
        #expect(approval.roles == ["lead", "ops"] && approval.count == 1 && approval.timeout == 600 && approval.channel == nil)
    }

    @Test("bad shapes are reported where they are written")
    func shapes() {
        let files = { (approval: String) in ["commands.d/deploy.yaml": self.command(approval), "policies.d/base.yaml": Self.policy] }
        #expect(
            lint(files("{count: 1}")) == [
                "commands.d/deploy.yaml:4:11: error: 'approval' is missing required key 'roles': name the roles whose members may approve, such as roles: [sre-lead]"
            ])
        #expect(
            lint(files("{roles: [ops], count: 0}")) == [
                "commands.d/deploy.yaml:4:33: error: 'count' must be between 1 and 10, found 0"
            ])
        #expect(
            lint(files("{roles: [ops], timeout: 8d}")) == [
                "commands.d/deploy.yaml:4:35: error: an approval may wait at most 7d, found 8d"
            ])
        #expect(
            lint(files("{roles: [ops], chanel: C1}")) == [
                "commands.d/deploy.yaml:4:26: error: unknown key 'chanel' in 'approval'; did you mean 'channel'?"
            ])
    }

    @Test("an unknown role, too few approvers, or a requester who would be the only approver is an error")
    func impossible() {
        let files = { (approval: String) in ["commands.d/deploy.yaml": self.command(approval), "policies.d/base.yaml": Self.policy] }
        #expect(
            lint(files("{roles: [leads]}")) == [
                "commands.d/deploy.yaml:4:11: error: 'deploy': approval names unknown role 'leads'; did you mean 'lead'?"
            ])
        #expect(
            lint(files("{roles: [ops], count: 3}")) == [
                "commands.d/deploy.yaml:4:11: error: 'deploy' needs 3 different approvers from ops, which hold 2 people"
            ])
        // U0LEAD may request deploy, and is the only lead: nobody else could approve their job.
        #expect(
            lint(files("{roles: [lead]}")) == [
                "commands.d/deploy.yaml:4:11: error: 'deploy' needs an approver other than its requester, but a request by U0LEAD leaves only 0 in lead"
            ])
        #expect(
            lint(files("{roles: [ops], count: 2}")) == [
                "commands.d/deploy.yaml:4:11: error: 'deploy' needs 2 different approvers other than its requester, but a request by U0OPS leaves only 1 in ops"
            ])
    }

    @Test("an agent's own command cannot ask for approval")
    func agentOwned() {
        let dir = TemporaryDirectory().write(["commands.d/deploy.yaml": command("{roles: [ops]}")])
        let found = ConfigLoader.loadCommands(directory: dir.path).diagnostics.map {
            $0.description.replacingOccurrences(of: dir.path + "/", with: "")
        }
        #expect(
            found == [
                "commands.d/deploy.yaml:4:11: error: 'deploy': approval is decided by the box, so an agent's own command cannot ask for it; declare the command in the box's commands.d"
            ])
    }
}
