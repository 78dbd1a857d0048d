import Foundation
import MusterWire

/// A command the core decides. Each lives in one file under Commands/ that names its wire body
/// (the `Request` in MusterWire, shared with peers and the fuzzers), who may send it and how it
/// decides; `CaseCommands.all` lists them, and the broker, the permissions and the docs' role
/// table read that list. docs/ARCHITECTURE.md says what adding one touches.
public protocol CaseCommandKind: Sendable {
    associatedtype Body: Request
    static var name: Command { get }
    /// The roles that may send it (docs/SECURITY.md).
    static var roles: Set<Role> { get }
    /// Checks on the body beyond its decoding (SUBMIT's fields the broker assigns itself).
    static func check(_ body: JSONTree) -> WireError?
    /// The part of the body the broker keeps as it came (SUBMIT's case), if any.
    static func kept(_ body: JSONTree, raw: [UInt8]) -> [UInt8]?
    /// The cases and dispatches it reads, so the shell can bring back from the store what has
    /// left memory before deciding it.
    static func needs(_ body: Body, _ rules: Rules) -> Ledger.Needs
    /// Decides it: checks against the tables, emits facts through `run`, returns the reply.
    /// Throws before its first fact, so a refusal changes nothing.
    static func decide(_ body: Body, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply
    /// The body read, checked and decoded (the extension's; a requirement so that each kind's
    /// is compiled for its own body: called on `any CaseCommandKind.Type` unspecialised, it
    /// looked up the metadata of `Result<Body, WireError>` at run time on every request).
    static func decode(_ raw: [UInt8]) -> Result<CaseCommand, WireError>
}

extension CaseCommandKind {
    public static func check(_ body: JSONTree) -> WireError? { nil }
    public static func kept(_ body: JSONTree, raw: [UInt8]) -> [UInt8]? { nil }
    public static func needs(_ body: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs() }

    /// The body read once, checked and decoded, ready to decide.
    public static func decode(_ raw: [UInt8]) -> Result<CaseCommand, WireError> {
        BodyDecoder.tree(raw).flatMap { tree in
            if let e = check(tree) { return .failure(e) }
            return BodyDecoder.decode(Body.self, from: tree).map { CaseCommand(Self.self, $0, kept: kept(tree, raw: raw)) }
        }
    }
}

/// One decoded case command, whatever its kind.
public struct CaseCommand: Sendable {
    public let name: Command
    public let requestID: String
    /// The bytes the broker keeps as they came (SUBMIT's case).
    public let kept: [UInt8]?
    private let needsBody: @Sendable (Rules) -> Ledger.Needs
    private let decideBody: @Sendable (inout Ledger, inout Ledger.Run) throws(WireError) -> Reply

    public init<K: CaseCommandKind>(_ kind: K.Type, _ body: K.Body, kept: [UInt8]? = nil) {
        name = K.name
        requestID = body.id
        self.kept = kept
        // Both closures hold the one box: each holding the body was a copy of it, a retain of
        // each of its strings (a SUBMIT's case has a dozen), and a release of each later.
        let held = Held(body)
        needsBody = { rules in K.needs(held.body, rules) }
        // Asked of the type first: only a downstream act's body is cast (a cast copied the body).
        let fromDownstream = K.Body.self is any FromDownstream.Type
        decideBody = { (ledger: inout Ledger, run: inout Ledger.Run) throws(WireError) -> Reply in
            let reply = try K.decide(held.body, &ledger, &run)
            // The department system's raw status and keys, kept beside the act's facts.
            if fromDownstream, let act = held.body as? any FromDownstream, let ref = act.downstream, let first = run.decision.facts.first {
                ledger.emit(first.caseID, .downstream(subject: act.subjectID, ref), &run)
            }
            return reply
        }
    }

    /// A decoded body, shared by the closures that need it. Not `SharedValues`: its getter hands
    /// out a copy of the values (tried: two more copies of a SUBMIT's body, +920 instructions),
    /// where a `let` of a class is read in place.
    private final class Held<Body: Sendable>: Sendable {
        let body: Body
        init(_ body: Body) { self.body = body }
    }

    func decide(_ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply { try decideBody(&ledger, &run) }

    /// What deciding it reads (see `CaseCommandKind.needs`).
    public func needs(_ rules: Rules) -> Ledger.Needs { needsBody(rules) }
}

/// The registry: every command the core decides.
public enum CaseCommands {
    public static let all: [any CaseCommandKind.Type] = [
        OnSubmit.self, OnAck.self, OnProgress.self, OnResolve.self, OnReturn.self, OnExtend.self, OnBacklog.self,
        OnAssign.self, OnReject.self, OnVerify.self, OnEvaluate.self, OnMode.self,
        OnWhistle.self, OnReport.self, OnStandDown.self, OnHealth.self, OnIncident.self, OnIncidentEnd.self, OnPetition.self,
    ]

    private static let byName: [Command: any CaseCommandKind.Type] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Decodes a case command's body; nil when `name` is not a case command.
    public static func decode(_ name: Command, _ raw: [UInt8]) -> Result<CaseCommand, WireError>? {
        byName[name].map { $0.decode(raw) }
    }

    /// Who may send each case command.
    public static var roles: [Command: Set<Role>] { Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.roles) }) }
}
