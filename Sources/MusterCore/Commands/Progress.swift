import Foundation
import MusterWire

/// PROGRESS (处置反馈): a note and photos on the way; nothing moves.
public enum OnProgress: CaseCommandKind {
    public static let name = Command.progress
    public static let roles: Set<Role> = [.agency]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(dispatches: [b.dispatchID]) }

    public static func decide(_ b: ProgressUpdate, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.actOnDispatch(.progress, b.dispatchID, &run) { _ in .progressed(dispatchID: b.dispatchID, note: b.note, attachments: b.attachments ?? []) }
    }
}

extension CaseCommand {
    public static func progress(_ body: ProgressUpdate) -> CaseCommand { CaseCommand(OnProgress.self, body) }
}
