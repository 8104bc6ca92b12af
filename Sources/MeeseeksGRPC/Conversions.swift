public import MeeseeksCore
import SwiftProtobuf

// Plain Swift values ↔ the wire messages, in one place.

extension Meeseeks_Agent_V1_JobAssignment {
    public init(_ plan: ExecutionPlan) {
        self.init()
        jobID = plan.jobID
        attempt = Int32(plan.attempt)
        command = plan.command
        argv = plan.argv
        script = plan.script ?? ""
        environment = plan.environment
        timeoutSeconds = Int32(clamping: plan.timeout)
        user = plan.user
        twoFactor = plan.twoFactor
        twoFactorCode = plan.twoFactorCode ?? ""
        outputLimit = UInt64(max(0, plan.outputLimit))
        epoch = plan.epoch
        agentOwned = plan.agentOwned
        arguments = plan.arguments
    }

    public var plan: ExecutionPlan {
        var plan = ExecutionPlan(
            jobID: jobID, attempt: Int(attempt), command: command, argv: argv, script: script.isEmpty ? nil : script,
            environment: environment, timeout: Int(timeoutSeconds), user: user, twoFactor: twoFactor,
            twoFactorCode: twoFactorCode.isEmpty ? nil : twoFactorCode,
            // Whatever the box says, an agent keeps no more than 1 GiB of one job's output.
            outputLimit: outputLimit == 0 ? ExecutionPlan.defaultOutputLimit : Int(min(outputLimit, 1 << 30)))
        plan.epoch = epoch
        plan.agentOwned = agentOwned
        plan.arguments = arguments
        return plan
    }
}

extension Meeseeks_Agent_V1_JobResult {
    public init(jobID: Int64, attempt: Int, outcome: JobOutcome, duration: Double) {
        self.init()
        self.jobID = jobID
        self.attempt = Int32(attempt)
        status = outcome.status.rawValue
        if let code = outcome.exitCode {
            hasExitCode_p = true
            exitCode = Int32(code)
        }
        signal = Int32(outcome.signal ?? 0)
        reason = outcome.reason ?? ""
        durationSeconds = duration
    }

    public var outcome: JobOutcome {
        var status = JobStatus(rawValue: status) ?? .failed
        // How a process can end; the box alone decides lost, denied and expired.
        if ![.succeeded, .failed, .timedOut, .cancelled].contains(status) { status = .failed }
        return JobOutcome(
            status: status, exitCode: hasExitCode_p ? Int(exitCode) : nil, signal: signal == 0 ? nil : Int(signal),
            reason: reason.isEmpty ? nil : reason)
    }
}
