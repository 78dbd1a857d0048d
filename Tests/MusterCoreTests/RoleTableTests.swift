import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// docs/SECURITY.md's role table is the code's: this fails when either changes alone.
@Suite struct RoleTableTests {
    @Test func theDocumentedTableIsTheEnforcedTable() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: repo.appendingPathComponent("docs/SECURITY.md"), encoding: .utf8)
        let table = text.components(separatedBy: "<!-- role-table:start -->")[1].components(separatedBy: "<!-- role-table:end -->")[0]
        var documented: [Command: Set<Role>] = [:]
        for line in table.split(separator: "\n") where line.hasPrefix("| ") && !line.hasPrefix("| command") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let command = Command(rawValue: cells[0]) else { continue }
            documented[command] = Set(cells[1].split(separator: ",").compactMap { Role(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
        }
        #expect(documented == Permissions.table)
    }
}
