import Logging
import MeeseeksConfig
public import MeeseeksCore

/// Four-eyes approval. A job of a command with `approval` is stored awaiting approval and its
/// approvers are asked (in the command's approval channel, or each of them directly). Each
/// decision is checked when it is made, against the roles held then; the job is queued once
/// enough different people approved, ends `denied` at the first denial, and `expired` when its
/// time runs out. The requester hears each step in their dialog.
extension Orchestrator {
    /// Asks the approvers of a job just stored awaiting approval.
    func announceApproval(_ job: Job) {
        audit.record(
            AuditRecord(
                action: .approvalRequested, user: job.requester, command: job.command, outcome: "awaiting_approval", jobID: job.id))
        showApprovalRequest(job, decisions: [], closed: nil)
    }

    /// Approves, or denies with a reason, a job awaiting approval; the job and its decisions as
    /// they then stand. A refusal changes nothing and is audited.
    public func decide(_ jobID: Int64, by user: String, approve: Bool, reason: String?) throws(ApprovalRefusal) -> (Job, [ApprovalDecision])
    {
        let snapshot = config.snapshot
        let job: Job
        let decisions: [ApprovalDecision]
        do {
            guard let found = try store.job(jobID), found.parentID == nil else {
                throw ApprovalRefusal("not_found", "There is no job #\(jobID) to approve.")
            }
            job = found
            decisions = try store.decisions(on: jobID)
        } catch let refusal as ApprovalRefusal {
            throw refusal
        } catch {
            logger.error("cannot read a job to approve", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
            throw Self.storeRefusal
        }
        let approval = snapshot.configuration.command(named: job.command)?.approval
        let trimmed = reason?.trimmingSpaces
        if let refusal = ApprovalRules.refusal(
            job: job, approval: approval, approver: user, roles: snapshot.engine.roles(of: user), decisions: decisions,
            approving: approve, reason: trimmed, now: clock())
        {
            audit.record(
                AuditRecord(
                    action: .approvalRefused, user: user, command: job.command, outcome: "denied", reason: refusal.code, jobID: jobID,
                    detail: refusal.description))
            if refusal.code == "expired" { expire(job, approval) }
            throw refusal
        }
        guard let approval else { throw ApprovalRefusal("no_approval", "Job #\(jobID) does not need approval.") }
        let decision = ApprovalDecision(jobID: jobID, approver: user, approved: approve, reason: approve ? nil : trimmed, at: clock())
        do {
            guard try store.recordDecision(decision) else {
                throw ApprovalRefusal("already_decided", "You already decided on job #\(jobID).")
            }
        } catch let refusal as ApprovalRefusal {
            throw refusal
        } catch {
            logger.error("cannot record an approval", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
            throw Self.storeRefusal
        }
        let all = decisions + [decision]
        audit.record(
            AuditRecord(
                action: approve ? .approvalGranted : .approvalDenied, user: user, command: job.command,
                outcome: approve ? "approved" : "denied", reason: decision.reason, jobID: jobID))
        carryOut(job, all, approval, decidedBy: user)
        do {
            return (try store.job(jobID) ?? job, all)
        } catch {
            return (job, all)
        }
    }

    /// Does what the decisions so far call for: end a denied job, queue an approved one (or,
    /// for a two-factor command, ask its requester for the code), or tell the requester how
    /// many approvals are still missing.
    private func carryOut(_ job: Job, _ decisions: [ApprovalDecision], _ approval: ApprovalSpec, decidedBy user: String?) {
        let jobID = job.id
        switch ApprovalRules.outcome(decisions, approval) {
        case .denied(let by, let why):
            let ended = dispatcher.endUnapproved(jobID, JobOutcome(status: .denied, reason: "denied by \(by): \(why)"))
            if !ended.isEmpty { showApprovalRequest(job, decisions: decisions, closed: "Denied by \(by): \(why)") }
            settle(ended)
        case .approved where config.snapshot.configuration.command(named: job.command)?.twoFactor == true:
            // The code is asked now, so the agent checks a fresh one (see `releaseApproved`).
            let asked = job.dialogID.flatMap { handle($0, DialogInput(.approved(jobID: jobID))) }
            if asked?.phase == .awaitingCodeToRun(jobID: jobID) {
                showApprovalRequest(
                    job, decisions: decisions, closed: "Approved by \(Self.names(decisions)); waiting for the requester's 2FA code.")
                tellRequester(job, "Job #\(jobID) (\(job.command)) is approved by \(Self.names(decisions)); give your 2FA code to run it.")
            } else {
                // No conversation can take the code (it ended, or the job came from elsewhere).
                let ended = dispatcher.endUnapproved(
                    jobID,
                    JobOutcome(status: .cancelled, reason: "approved, but its requester's conversation cannot take a 2FA code any more"))
                if !ended.isEmpty {
                    showApprovalRequest(job, decisions: decisions, closed: "Approved, but the requester's conversation had ended.")
                }
                settle(ended)
            }
        case .approved:
            do {
                guard try dispatcher.release(jobID) else { return }
                approvedUnreleased.remove(jobID)
            } catch {
                // The decisions are kept: the next sweep queues it (`expireApprovals`).
                logger.error("cannot queue an approved job; the sweep tries again", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
                approvedUnreleased.insert(jobID)
                return
            }
            tellRequester(job, "Job #\(jobID) (\(job.command)) is approved by \(Self.names(decisions)); it runs now.")
            showApprovalRequest(job, decisions: decisions, closed: "Approved by \(Self.names(decisions)); queued.")
            dispatch()
        case .waiting(let missing):
            guard let user else { return }
            tellRequester(
                job, "Job #\(jobID) (\(job.command)) is approved by \(user); it needs \(missing) more approval\(missing == 1 ? "" : "s").")
            showApprovalRequest(job, decisions: decisions, closed: nil)
        }
    }

    /// Finishes what decisions already stored call for and nothing carried out: a leader that
    /// died (or lost its database) between storing the last decision and acting on it. Called
    /// when a box starts leading.
    public func resumeApprovals() {
        let snapshot = config.snapshot
        do {
            var found: [(Job, [ApprovalDecision], ApprovalSpec)] = []
            try ApprovalList.awaiting(in: store) { job in
                guard let approval = snapshot.configuration.command(named: job.command)?.approval else { return }
                let decisions = try store.decisions(on: job.id)
                if case .waiting = ApprovalRules.outcome(decisions, approval) { return }
                found.append((job, decisions, approval))
            }
            for (job, decisions, approval) in found {
                logger.notice("carrying out decisions left by a previous run", metadata: ["job_id": "\(job.id)"])
                carryOut(job, decisions, approval, decidedBy: nil)
            }
        } catch {
            logger.error("cannot look for approved jobs left waiting", metadata: ["error": "\(error)"])
        }
    }

    /// Queues an approved two-factor job with the code its requester just gave: sealed with the
    /// job (each of a broadcast's sub-jobs), as a code given with the request would have been.
    /// Nil when it is queued; otherwise why not, for the requester.
    func releaseApproved(_ jobID: Int64, code: String, by user: String) -> String? {
        do {
            guard let job = try store.job(jobID), job.requester == user, job.status == .awaitingApproval,
                let approval = config.snapshot.configuration.command(named: job.command)?.approval,
                case .approved = ApprovalRules.outcome(try store.decisions(on: jobID), approval)
            else { return "Job #\(jobID) is no longer waiting for your code." }
            let holders = job.isBroadcast ? try store.jobs(JobQuery(parentID: jobID, limit: Int.max)).map(\.id) : [jobID]
            for holder in holders {
                var secrets = try store.secrets(of: holder) ?? JobSecrets()
                secrets.code = code
                guard try store.keepSecrets(secrets, of: holder) else { return "Job #\(jobID) is no longer waiting for your code." }
            }
            guard try dispatcher.release(jobID) else { return "Job #\(jobID) is no longer waiting for your code." }
        } catch {
            logger.error("cannot queue an approved job with its code", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
            return "Job #\(jobID) could not be queued (the box's store failed): ask again."
        }
        dispatch()
        return nil
    }

    /// Why a request made by one user acting as another (`X-Meeseeks-As`) may not ask for, or
    /// decide on, a command that needs approval: four eyes means two people.
    static func impersonatedApproval(_ command: String) -> String {
        "'\(command)' needs approval, so it is requested and decided in one's own name: use your own token, without --as"
    }

    static let storeRefusal = ApprovalRefusal("unavailable", "The box cannot reach its database right now; nothing was decided. Try again.")

    static func names(_ decisions: [ApprovalDecision]) -> String {
        decisions.filter(\.approved).map(\.approver).joined(separator: ", ")
    }

    /// Ends the jobs whose approvers did not decide in time, and queues approved jobs the store
    /// could not queue before. Called periodically.
    public func expireApprovals() {
        for id in approvedUnreleased {
            do {
                if let job = try store.job(id), let approval = config.snapshot.configuration.command(named: job.command)?.approval {
                    carryOut(job, try store.decisions(on: id), approval, decidedBy: nil)
                }
                if try store.job(id)?.status != .awaitingApproval { approvedUnreleased.remove(id) }
            } catch {
                logger.warning("cannot queue an approved job yet", metadata: ["job_id": "\(id)", "error": "\(error)"])
            }
        }
        let snapshot = config.snapshot
        let now = clock()
        var due: [(Job, ApprovalSpec?)] = []
        do {
            try ApprovalList.awaiting(in: store) { job in
                let approval = snapshot.configuration.command(named: job.command)?.approval
                // A command that no longer asks for approval leaves its waiting jobs to expire.
                let deadline = job.createdAt + Double(approval?.timeout ?? ApprovalSpec.defaultTimeout)
                if now >= deadline { due.append((job, approval)) }
            }
        } catch {
            logger.error("cannot list jobs awaiting approval", metadata: ["error": "\(error)"])
        }
        for (job, approval) in due { expire(job, approval) }
    }

    private func expire(_ job: Job, _ approval: ApprovalSpec?) {
        let reason =
            approval.map { "nobody approved it within \(DurationText.format($0.timeout))" }
            ?? "its command no longer asks for approval; request it again"
        let ended = dispatcher.endUnapproved(job.id, JobOutcome(status: .expired, reason: reason))
        guard !ended.isEmpty else { return }
        audit.record(AuditRecord(action: .approvalExpired, user: job.requester, command: job.command, outcome: "expired", jobID: job.id))
        settle(ended)
        // The decisions only decorate the closed message: without them it still says it expired.
        showApprovalRequest(job, decisions: (try? store.decisions(on: job.id)) ?? [], closed: "Expired: \(reason).")
    }

    /// An approval request that closed otherwise (its requester cancelled it).
    func closeApprovalRequest(_ job: Job, _ text: String) {
        // The decisions only decorate the closed message: without them it still says why it closed.
        showApprovalRequest(job, decisions: (try? store.decisions(on: job.id)) ?? [], closed: text)
    }

    /// The request's message wherever it is shown, new or updated in place.
    private func showApprovalRequest(_ job: Job, decisions: [ApprovalDecision], closed: String?) {
        let snapshot = config.snapshot
        guard let approval = snapshot.configuration.command(named: job.command)?.approval, let transport = dialogs.transports["slack"]
        else {
            return
        }
        var targets: [String] = []
        if job.isBroadcast {
            do {
                targets = try store.jobs(JobQuery(parentID: job.id, limit: Int.max, oldestFirst: true)).compactMap(\.agent)
            } catch {
                logger.warning(
                    "cannot list a broadcast's agents for its approval request", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
            }
        } else {
            targets = ["one agent" + (job.selector.isEmpty ? "" : " matching \(job.selector)")]
        }
        let view = DialogView.approvalRequest(
            .init(
                jobID: job.id, command: job.command, arguments: job.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
                targets: targets, requester: job.requester, requestedAt: job.createdAt,
                expiresAt: ApprovalRules.deadline(of: job, approval), need: ApprovalList.need(approval),
                approvedBy: decisions.filter(\.approved).map(\.approver), closed: closed))
        for place in ApprovalList.places(of: job, approval, engine: snapshot.engine, policy: snapshot.base.policy) {
            var surface = Dialog(id: "approval-\(job.id)-\(place)", user: job.requester, channel: place, now: clock())
            surface.transport = ["kind": "slack", "channel": place]
            transport.show(view, in: surface)
        }
    }

    /// A line in the requester's dialog, when the job came from one.
    private func tellRequester(_ job: Job, _ text: String) {
        guard let dialogID = job.dialogID, let dialog = dialogs.load(dialogID) else { return }
        dialogs.render(.notice(.init(.info, text)), in: dialog, replacing: false)
    }
}
