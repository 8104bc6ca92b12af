import FuzzSupport
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels

/// Typed requests (`restart service=nginx -l env=stg`), built-ins, and the conversation they start.
///
/// Input: the first line is what a user types after the mention; each further line is one more
/// event for the same dialog, chosen by its first character (see `event(_:)`). The dialog is run
/// for an admin, a user with a narrow role and a user with none, over the configuration in
/// `FuzzWorld.swift`.
/// Checks: nothing crashes; a submitted job names a command the user may run and only targets
/// the policy permits; only admins get admin built-ins; a value answered to a secret prompt
/// appears in no view and no audit record.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let lines = text(input(data, size)).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if let words = try? TypedRequest.split(lines[0]), let request = try? TypedRequest.parse(lines[0]) {
        check(request.command == words.first, "parse and split disagree on the command of \(lines[0].debugDescription)")
    }
    for user in FuzzWorld.users {
        converse(user: user, opening: lines[0], events: lines.dropFirst())
    }
    return 0
}

func converse(user: String, opening: String, events: ArraySlice<String>) {
    var world = FuzzWorld.world
    var dialog = Dialog(id: "D1", user: user, channel: "C01OPS", now: world.now)
    var inputs = [DialogInput(.opened(text: opening))]
    for line in events.prefix(16) {
        guard let next = event(line, dialog: dialog) else {
            world.now += 3600  // `T`: long enough for the dialog to expire
            continue
        }
        inputs.append(next)
    }
    for input in inputs {
        let before = dialog
        world.now += 1
        let effects = Conversation.handle(&dialog, input, in: world)
        checkAuthorized(effects, user: user, world: world)
        if case .answered(let value) = input.event, case .prompting(let name) = before.phase {
            checkSecretHidden(value, argument: name, before: before, input: input, effects: effects, world: world)
        }
    }
}

/// One line as an event, with the step of the dialog's latest view; nil for a pause.
func event(_ line: String, dialog: Dialog) -> DialogInput? {
    let rest = String(line.dropFirst())
    let event: DialogEvent
    switch line.first {
    case "a": event = .answered(value: rest)
    case "p": event = .picked(command: rest)
    case "s": event = .skipped
    case "y": event = .confirmed(true)
    case "n": event = .confirmed(false)
    case "c": event = .codeEntered(rest)
    case "x": event = .cancelled
    case "j": event = .jobAccepted(jobID: Int64(rest) ?? 1)
    case "r": event = .jobRejected(reason: rest)
    case "f": event = .jobFinished(JobReport(jobID: Int64(rest) ?? 1, command: dialog.command ?? "", status: .succeeded))
    case "k": event = .codeRejected(message: rest, final: rest.hasPrefix("!"))
    case "t": event = .tick
    case "T": return nil
    default: event = .opened(text: line)
    }
    return DialogInput(event, step: line.hasPrefix("a!") ? dialog.step - 1 : dialog.step)
}

/// Jobs only for commands the user may run, on agents the policy permits; admin built-ins for admins.
func checkAuthorized(_ effects: [DialogEffect], user: String, world: World) {
    for effect in effects {
        switch effect {
        case .submit(let job):
            check(job.requester == user, "a job for \(job.requester) from \(user)'s dialog")
            guard let spec = world.configuration.command(named: job.command) else {
                fatalError("submitted unknown command \(job.command)")
            }
            check(world.engine.mayRequest(user: user, command: spec.name), "\(user) may not run \(spec.name)")
            for target in job.targets {
                guard let agent = world.agents.first(where: { $0.id == target }) else { fatalError("unknown target \(target)") }
                check(world.engine.permits(user: user, command: spec, on: agent), "\(user) may not run \(spec.name) on \(target)")
                check(spec.selector.matches(agent.labels) && job.selector.matches(agent.labels), "\(target) is outside the selectors")
            }
        case .builtin(.kill), .builtin(.audit):
            check(world.engine.isAdmin(user), "\(user) got an admin built-in")
        default:
            break
        }
    }
}

/// A value answered to a secret prompt must not show up anywhere the effects carry text, unless
/// it shows up there whatever was answered (a word of the prompt, say).
func checkSecretHidden(
    _ value: String, argument: String, before: Dialog, input: DialogInput, effects: [DialogEffect], world: World
) {
    guard value.count >= 4, let spec = before.command.flatMap(world.configuration.command(named:)),
        spec.argument(named: argument)?.secret == true
    else { return }
    var baseline = before
    let other = Conversation.handle(&baseline, DialogInput(.answered(value: "#"), step: input.step), in: world)
    let shown = visibleText(effects, spec)
    check(!shown.contains(value) || visibleText(other, spec).contains(value), "secret \(argument) shown: \(shown)")
}

/// Everything effects can show or store; a job request carries real values to the agent, so it
/// counts as it is stored: masked.
func visibleText(_ effects: [DialogEffect], _ spec: CommandSpec) -> String {
    effects.map { effect in
        guard case .submit(var job) = effect else { return String(describing: effect) }
        job.arguments = job.maskedArguments(for: spec)
        job.twoFactorCode = nil
        return String(describing: job)
    }.joined(separator: "\n")
}
