import Foundation
import Testing
@testable import MusterStore

/// The `synchronous` a store is opened with is what its commits do. GRDB's pool sets its writer
/// to NORMAL as it turns WAL on, after the configuration's `prepareDatabase` ran: from the first
/// commit of this project until 2026-12-04, a store asked for FULL committed at NORMAL — synced
/// at checkpoints only, so a power cut (not a kill -9) could lose what was answered.
struct DurabilityTests {
    @Test(arguments: [Store.Synchronous.full, .normal, .off])
    func theWritingConnectionCommitsAtTheLevelAsked(_ level: Store.Synchronous) throws {
        let path = StoreFixtures.tempDB()
        do { #expect(try Store(path: path, synchronous: level).synchronousInEffect() == level) }
        do { #expect(try Store(path: path, synchronous: level).synchronousInEffect() == level, "and when opened again") }
    }

    @Test func aStoreIsFullUnlessToldOtherwise() throws {
        #expect(try Store(path: StoreFixtures.tempDB()).synchronousInEffect() == .full)
    }
}
