import Foundation
import MusterWire

/// The case commands the core decides. Queries and session commands stay in the shell.
public enum CaseCommand: Sendable {
    case submit(Submit)
    case ack(Ack)
    case progress(ProgressUpdate)
    case resolve(Resolve)
    case `return`(Return)
    case assign(Assign)
    case reject(Reject)
    case verify(Verify)
    case evaluate(Evaluate)
    case extend(Extend)
    case backlog(Backlog)
    case mode(ModeRequest)
}

/// What the broker answers once the decision is durable.
public enum Reply: Sendable, Equatable {
    /// `ACCEPTED {case_id, state, merged_into?, due?}`
    case accepted(caseID: String, state: CaseState, mergedInto: String?, due: Date?)
    /// `OK {case_id, state, dispatch_id?}`
    case ok(caseID: String, state: CaseState, dispatchID: String?)
    /// `OK {case_id, dispatch_id, resolve_by}` (延期 approved)
    case extended(caseID: String, dispatchID: String, resolveBy: Date)
    /// `OK {mode, scope}`
    case modeSet(mode: ManagementMode, scope: String)
}

/// A decision: the facts to append (in order) and the reply to send after they commit.
public struct Decision: Sendable, Equatable {
    public var facts: [Fact]
    public var reply: Reply
}
