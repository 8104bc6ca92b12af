import FuzzSupport
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels

#if canImport(Glibc)
    import Glibc
#endif

/// The configuration, policy and fleet the requests run against: the repository's own commands
/// and policy, plus commands with secret, int and bool arguments and a channel restriction.
enum FuzzWorld {
    static let users = ["U01ADMIN00", "U01DEV0001", "U09NOBODY0"]

    static let files: [String: String] = [
        "commands.d/hello.yaml": """
        name: hello
        summary: Say hello from an agent
        run: ["/bin/echo", "Hello, {{who}}!"]
        args:
          - {name: who, prompt: Who should I greet?, choices: [world, team, Rick, Morty], default: world}
        """,
        "commands.d/restart.yaml": """
        name: restart
        summary: Restart a service
        script: |
          #!/bin/sh
          echo "restarting $MEESEEKS_ARG_SERVICE"
        args:
          - {name: service, prompt: Which service?, choices: [nginx, postgres, redis]}
          - {name: reason, prompt: Why?, pattern: '^[A-Za-z0-9 ,.-]{3,80}$', required: false, default: routine}
        confirm: "Restart {{service}} on {{targets}}?"
        two_factor: true
        destructive: true
        """,
        "commands.d/uptime.yaml": """
        name: uptime
        summary: Uptime of every agent
        run: ["/usr/bin/uptime"]
        target: {selector: "agent", mode: all}
        """,
        "commands.d/disk-usage.yaml": """
        name: disk-usage
        summary: Show disk usage of a path
        run: ["/usr/bin/du", "-sh", "{{path}}"]
        args:
          - {name: path, prompt: Which path?, pattern: '^/[A-Za-z0-9/._-]{0,200}$'}
        """,
        "commands.d/rotate.yaml": """
        name: rotate
        summary: Rotate a credential
        run: ["/usr/local/bin/rotate", "{{token}}", "{{pin}}"]
        args:
          - {name: token, prompt: New token?, secret: true, pattern: '^[A-Za-z0-9]{8,64}$'}
          - {name: pin, prompt: PIN?, type: int, min: 1000, max: 9999, secret: true}
          - {name: notify, prompt: Tell the team?, type: bool, required: false, default: "yes"}
        confirm: "Rotate with {{token}} and {{pin}}?"
        target: {selector: "env in (prd, stg)"}
        """,
        "commands.d/scale.yaml": """
        name: scale
        summary: Scale a service
        run: ["/usr/local/bin/scale", "{{replicas}}", "{{dry_run}}"]
        args:
          - {name: replicas, type: int, min: 0, max: 50}
          - {name: dry_run, type: bool, required: false}
          - {name: note, required: false}
        channels: [C01OPS]
        target: {selector: "role=web,env!=dev"}
        """,
        "policies.d/teams.yaml": """
        roles:
          admin: {members: [U01ADMIN00]}
          dev: {members: [U01DEV0001]}
        grants:
          - roles: [admin]
            commands: ["*"]
          - roles: [dev]
            commands: [hello, disk-usage, uptime, "sc*", rotate]
            on: "agent, env notin (prd)"
        """,
    ]

    static let agents = [
        AgentInfo(id: "web-prd", labels: ["env": "prd", "role": "web", "agent": "web-prd"]),
        AgentInfo(id: "web-stg", labels: ["env": "stg", "role": "web", "agent": "web-stg"], commands: ["hello", "sc*", "rotate"]),
        AgentInfo(id: "db-dev", labels: ["env": "dev", "role": "db"], commands: ["restart", "disk-usage"]),
    ]

    /// Loaded once, from a scratch folder, through the same loader the box uses.
    static let world: World = {
        let path = "/tmp/meeseeks-fuzz-world-\(getpid())"
        for folder in ["", "/commands.d", "/policies.d"] { mkdir(path + folder, 0o700) }
        for (name, content) in files {
            let fd = open("\(path)/\(name)", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            _ = Array(content.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let result = ConfigLoader.load(directory: path)
        for name in files.keys { unlink("\(path)/\(name)") }
        for folder in ["/commands.d", "/policies.d", ""] { rmdir(path + folder) }
        guard let configuration = result.configuration else { fatalError("the fuzz world does not load: \(result.diagnostics)") }
        return World(configuration: configuration, agents: agents, now: 1_700_000_000)
    }()
}
