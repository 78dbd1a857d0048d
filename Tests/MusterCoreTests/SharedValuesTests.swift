import Foundation
import Testing
import MusterWire
@testable import MusterCore

/// A case, a dispatch and a rung keep their values behind one reference (a copy is one retain): they must
/// still behave as values — a change to one copy is never seen through another, equal values
/// are equal however they were made, and they are written and read back with the same keys.
@Suite struct SharedValuesTests {
    static let at = Date(ms: 1_782_525_600_000)

    static func aCase() -> CaseRecord {
        CaseRecord(caseID: "C0000000001", source: .hotline12345, externalRef: "12345-1", category: "road.pothole", grid: "110105001",
                   priority: .normal, title: "路面坑洼", address: "朝阳路1号", state: .dispatched, round: 1, lead: "chengguan",
                   assists: [], assigned: false, returnedBy: [], mergedInto: nil, mergedReports: 0, acceptedAt: at,
                   updatedAt: at, resolveBy: nil, satisfaction: nil)
    }

    static func aRung() -> LadderTimer {
        LadderTimer(id: "D0000000001/ack/0", caseID: "C0000000001", dispatchID: "D0000000001", agency: "chengguan", clock: .ack,
                    rung: 0, level: 1, notice: "remind", to: ["agency"], due: at, deadline: at.adding(ms: 3_600_000))
    }

    @Test func aCaseChangedAfterACopyLeavesTheCopyAsItWas() {
        let original = Self.aCase()
        var changed = original
        changed.state = .handling
        changed.assists.append("gongan")
        changed.round += 1
        #expect(original.state == .dispatched && original.assists.isEmpty && original.round == 1)
        #expect(changed.state == .handling && changed.assists == ["gongan"] && changed.round == 2)
        #expect(original != changed)
        // A copy kept elsewhere (the writer's batch) is not changed by the ledger's next act.
        var ledgers = [original.caseID: original]
        let batched = ledgers[original.caseID]!
        ledgers[original.caseID]!.mergedReports = 3
        #expect(batched.mergedReports == 0 && ledgers[original.caseID]!.mergedReports == 3)
    }

    /// Every field's setter copies a shared box before writing: none writes through to a copy.
    /// (A copy is one box shared until then.)
    @Test func aChangeToAnyFieldThroughACopyCopiesTheBoxFirst() {
        let aCase = Self.aCase()
        func check<T>(_ path: WritableKeyPath<CaseRecord, T>) {
            var copy = aCase
            #expect(copy.shared.isShared(with: aCase.shared))
            copy[keyPath: path] = aCase[keyPath: path]
            #expect(!copy.shared.isShared(with: aCase.shared), "\(path)")
            #expect(copy == aCase)
        }
        check(\.caseID); check(\.source); check(\.externalRef); check(\.category); check(\.grid); check(\.priority)
        check(\.title); check(\.address); check(\.state); check(\.round); check(\.lead); check(\.assists)
        check(\.assigned); check(\.returnedBy); check(\.mergedInto); check(\.mergedReports); check(\.acceptedAt)
        check(\.updatedAt); check(\.resolveBy); check(\.satisfaction); check(\.escalation); check(\.backlog); check(\.petition)
        let aDispatch = Self.aDispatch()
        func checkDispatch<T>(_ path: WritableKeyPath<DispatchRecord, T>) {
            var copy = aDispatch
            copy[keyPath: path] = aDispatch[keyPath: path]
            #expect(!copy.shared.isShared(with: aDispatch.shared), "\(path)")
            #expect(copy == aDispatch)
        }
        checkDispatch(\.dispatchID); checkDispatch(\.caseID); checkDispatch(\.agency); checkDispatch(\.role); checkDispatch(\.round); checkDispatch(\.state)
        checkDispatch(\.sentAt); checkDispatch(\.ackBy); checkDispatch(\.resolveBy); checkDispatch(\.returnBy); checkDispatch(\.ackedAt); checkDispatch(\.finishedAt)
        checkDispatch(\.handler); checkDispatch(\.extensions); checkDispatch(\.firstResolveBy); checkDispatch(\.milestones)
        let aRung = Self.aRung()
        func checkRung<T>(_ path: WritableKeyPath<LadderTimer, T>) {
            var copy = aRung
            copy[keyPath: path] = aRung[keyPath: path]
            #expect(!copy.shared.isShared(with: aRung.shared), "\(path)")
            #expect(copy == aRung && copy.hashValue == aRung.hashValue)
        }
        checkRung(\.id); checkRung(\.caseID); checkRung(\.dispatchID); checkRung(\.agency); checkRung(\.clock); checkRung(\.rung)
        checkRung(\.level); checkRung(\.notice); checkRung(\.to); checkRung(\.due); checkRung(\.deadline)
        // Printed as its values (a failed test shows them), under its own name.
        let printed = "\(aCase)"
        #expect(printed.hasPrefix("CaseRecord(caseID: \"C0000000001\"") && "\(Self.aRung())".contains("notice: \"remind\""), "\(printed)")
    }

    @Test func casesWithTheSameValuesAreEqualAndReadBackAsWritten() throws {
        var a = Self.aCase(), b = Self.aCase()
        #expect(a == b)
        a.backlog = "待汛期后施工"
        #expect(a != b)
        b.backlog = "待汛期后施工"
        #expect(a == b)
        let json = try JSONEncoder().encode(a)
        let keys = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any]).keys
        #expect(Set(keys).isSuperset(of: ["caseID", "state", "backlog", "acceptedAt"]))
        #expect(try JSONDecoder().decode(CaseRecord.self, from: json) == a)
    }

    static func aDispatch() -> DispatchRecord {
        DispatchRecord(dispatchID: "D0000000001", caseID: "C0000000001", agency: "chengguan", role: .lead, round: 1,
                       state: .sent, sentAt: at, ackBy: at.adding(ms: 3_600_000),
                       resolveBy: at.adding(ms: 86_400_000), returnBy: at.adding(ms: 7_200_000))
    }

    @Test func aDispatchChangedAfterACopyLeavesTheCopyAsItWas() throws {
        let original = Self.aDispatch()
        var acked = original
        acked.state = .acked
        acked.ackedAt = Self.at.adding(ms: 60_000)
        acked.handler = "张三"
        #expect(original.state == .sent && original.ackedAt == nil && original.handler == nil)
        #expect(acked.state == .acked && acked.handler == "张三" && acked != original)
        var again = original
        again.state = .acked; again.ackedAt = Self.at.adding(ms: 60_000); again.handler = "张三"
        #expect(again == acked)
        let json = try JSONEncoder().encode(acked)
        #expect(try JSONDecoder().decode(DispatchRecord.self, from: json) == acked)
        let keys = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any]).keys
        #expect(Set(keys).isSuperset(of: ["dispatchID", "caseID", "agency", "state", "ackedAt", "handler"]))
    }

    @Test func aRungChangedAfterACopyLeavesTheCopyAsItWas() throws {
        let original = Self.aRung()
        var moved = original
        moved.due = Self.at.adding(ms: 60_000)
        moved.to.append("supervisor")
        #expect(original.due == Self.at && original.to == ["agency"])
        #expect(moved.due == Self.at.adding(ms: 60_000) && moved.to == ["agency", "supervisor"])
        #expect(original != moved)
        // Equal values made apart are one element of a set, and hash alike.
        #expect(Set([Self.aRung(), Self.aRung(), moved]).count == 2)
        let json = try JSONEncoder().encode(original)
        let keys = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any]).keys
        #expect(Set(keys) == ["id", "caseID", "dispatchID", "agency", "clock", "rung", "level", "notice", "to", "due", "deadline"])
        #expect(try JSONDecoder().decode(LadderTimer.self, from: json) == original)
    }
}
