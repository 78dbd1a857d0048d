import Testing
import MusterCore
import MusterWire

/// What a CURVE key may claim in HELLO (peers.yaml).
@Suite struct PrincipalTests {
    static let chengguan = Principal(name: "cg", publicKey: "k", adapters: ["chengguan-*"], roles: [.agency, .supervisor], agencies: ["chengguan"])

    func hello(_ adapter: String, _ roles: [Role], agency: String? = nil) -> Hello {
        Hello(id: "h", adapter: adapter, roles: roles, agency: agency)
    }

    @Test func aFittingHelloIsAdmitted() {
        #expect(Self.chengguan.refusal(of: hello("chengguan-erqi-1", [.agency], agency: "chengguan")) == nil)
        #expect(Self.chengguan.refusal(of: hello("chengguan-erqi-1", [.supervisor], agency: "chengguan")) == nil)
    }

    @Test(arguments: [
        ("gongan-1", [Role.agency], "chengguan", "adapter"),
        ("chengguan-1", [.agency, .ops], "chengguan", "roles"),
        ("chengguan-1", [.agency], "gongan", "agency"),
        // A supervisor without an agency would watch every department.
        ("chengguan-1", [.supervisor], nil, "agency"),
    ] as [(String, [Role], String?, String)])
    func anythingBeyondTheKeyIsForbidden(_ adapter: String, _ roles: [Role], _ agency: String?, _ field: String) throws {
        let e = try #require(Self.chengguan.refusal(of: hello(adapter, roles, agency: agency)))
        #expect(e.code == .forbidden && e.field == field, "\(e)")
    }

    @Test func onlyAStarKeyMaySuperviseEveryDepartment() {
        let centre = Principal(name: "centre", publicKey: "k", adapters: ["*"], roles: [.supervisor], agencies: ["*"])
        #expect(centre.refusal(of: hello("centre-1", [.supervisor])) == nil)
    }
}
