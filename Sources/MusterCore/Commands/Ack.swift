import Foundation
import MusterWire

/// ACK (签收): the department signs for its dispatch; the lead's moves the case to 处置.
public enum OnAck: CaseCommandKind {
    public static let name = Command.ack
    public static let roles: Set<Role> = [.agency]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(dispatches: [b.dispatchID]) }

    public static func decide(_ b: Ack, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.actOnDispatch(.ack, b.dispatchID, &run) { _ in .acked(dispatchID: b.dispatchID, handler: b.handler, note: b.note) }
    }
}

extension CaseCommand {
    public static func ack(_ body: Ack) -> CaseCommand { CaseCommand(OnAck.self, body) }
}
