import Foundation
import MeeseeksAPI
import MeeseeksCore
import MeeseeksHTTP

/// An API call a front door passes to the leader through the database. The ids a call creates
/// (its dialog, its job's origin) are chosen by the front door or derived from the request, so
/// a call carried out twice (its leader died before answering) creates nothing twice.
enum ForwardedCall: Codable, Sendable {
    case run(API.RunRequest, principal: API.Principal)
    case openDialog(API.OpenDialog, user: String, dialogID: String)
    case send(DialogInput, dialogID: String, user: String)
    case messages(dialogID: String, user: String, after: Int, wait: Double)
    case cancel(Int64, principal: API.Principal)
    case decide(Int64, approve: Bool, reason: String?, principal: API.Principal)
    case reload
}

/// The leader's answer to a forwarded call.
enum ForwardedAnswer: Codable, Sendable {
    case job(Job)
    case dialog(API.DialogState)
    case approval(API.Approval)
    case reload(applied: Bool, diagnostics: [String])
    case failure(API.Failure)

    static let encoder = JSONEncoder()
    static let decoder = JSONDecoder()
}

extension ForwardedCall {
    /// Carries the call out on the leader's own API. `origin` names the request it came from.
    func execute(on api: BoxAPI, origin: String) async -> ForwardedAnswer {
        do {
            switch self {
            case .run(let request, let principal):
                return .job(try await api.run(request, as: principal, origin: origin))
            case .openDialog(let request, let user, let dialogID):
                return .dialog(try await api.openDialog(request, as: user, id: dialogID))
            case .send(let input, let dialogID, let user):
                return .dialog(try await api.send(input, to: dialogID, as: user))
            case .messages(let dialogID, let user, let after, let wait):
                return .dialog(try await api.messages(of: dialogID, as: user, after: after, wait: min(wait, 20)))
            case .cancel(let id, let principal):
                return .job(try await api.cancel(id, as: principal))
            case .decide(let id, let approve, let reason, let principal):
                return .approval(try await api.decide(id, approve: approve, reason: reason, as: principal))
            case .reload:
                let (applied, diagnostics) = await api.reload()
                return .reload(applied: applied, diagnostics: diagnostics)
            }
        } catch let failure as API.Failure {
            return .failure(failure)
        } catch {
            return .failure(API.Failure(.unavailable, "the leader could not carry the request out: \(error)"))
        }
    }
}
