/// Every kind of decision the audit trail records: a closed set, so metrics derived from it have
/// bounded labels and a reader of the trail knows every word it can meet.
public enum AuditAction: String, Hashable, Sendable, Codable, CaseIterable {
    // Dialogs
    case dialogOpened = "dialog.opened"
    case dialogConfirmed = "dialog.confirmed"
    case dialogCancelled = "dialog.cancelled"
    case dialogDeclined = "dialog.declined"
    case dialogExpired = "dialog.expired"
    case dialogForeignAction = "dialog.foreign_action"
    // Requests and policy
    case commandPicked = "command.picked"
    case commandRequested = "command.requested"
    case policyAllowed = "policy.allowed"
    case policyDenied = "policy.denied"
    case builtinDenied = "builtin.denied"
    // Jobs
    case jobQueued = "job.queued"
    case jobStarted = "job.started"
    case jobFinished = "job.finished"
    case jobCancelRequested = "job.cancel_requested"
    case jobKilled = "job.killed"
    case jobRefusedByAgent = "job.refused_by_agent"
    // Four-eyes approval
    case approvalRequested = "approval.requested"
    case approvalGranted = "approval.approved"
    case approvalDenied = "approval.denied"
    case approvalRefused = "approval.refused"
    case approvalExpired = "approval.expired"
    // Second factor
    case twoFactorPassed = "2fa.passed"
    case twoFactorFailed = "2fa.failed"
    case twoFactorLocked = "2fa.locked"
    // Agents
    case agentRegistered = "agent.registered"
    case agentRefused = "agent.refused"
    // Administration
    case configReloaded = "config.reloaded"
    case tokenCreated = "token.created"
    case tokenRevoked = "token.revoked"
    case agentEnrolled = "agent.enrolled"
    case agentRevoked = "agent.revoked"
    case apiActedAs = "api.acted_as"
    /// A row written by a version that knew an action this one does not.
    case unknown

    /// Dialogs that ended without a job.
    public var abandonsDialog: Bool {
        self == .dialogCancelled || self == .dialogDeclined || self == .dialogExpired
    }
}
