import Foundation
import MusterWire

/// MODE: 平时, 节假日, 重大活动 or 应急 for a grid prefix (default: the whole city). Deadlines of
/// dispatches made from now on follow it.
public enum OnMode: CaseCommandKind {
    public static let name = Command.mode
    public static let roles: Set<Role> = [.ops]

    public static func decide(_ m: ModeRequest, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        let scope = m.scope ?? run.rules.grids.root
        guard run.rules.grids.names[scope] != nil else { throw .badField("scope", "unknown grid \"\(scope)\"") }
        ledger.emit("", .modeSet(m.mode, scope: scope), &run)
        return .modeSet(mode: m.mode, scope: scope)
    }
}

extension CaseCommand {
    public static func mode(_ body: ModeRequest) -> CaseCommand { CaseCommand(OnMode.self, body) }
}
