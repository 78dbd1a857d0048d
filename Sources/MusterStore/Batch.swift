import Foundation
import MusterCore
import MusterWire

/// Everything one group commit writes, gathered by the broker while it handles a batch of
/// messages; written in one transaction, then acknowledged.
public struct Batch: Sendable {
    public struct Push: Sendable, Equatable {
        public var delivery: Int64
        /// `agency:CODE` (any live instance of the agency) or `adapter:ID` (that instance).
        public var target: String
        public var command: String
        public var body: [UInt8]
        public var dispatchID: String?
        public var createdAt: Date
        /// The case's grid, for a DISPATCH (instances may serve some grids only).
        public var grid: String?
        public init(delivery: Int64, target: String, command: String, body: [UInt8], dispatchID: String?, createdAt: Date, grid: String? = nil) {
            self.delivery = delivery; self.target = target; self.command = command; self.body = body
            self.dispatchID = dispatchID; self.createdAt = createdAt; self.grid = grid
        }
    }

    public struct StoredReply: Sendable, Equatable {
        public var adapter: String
        public var requestID: String
        public var command: Command
        public var body: [UInt8]
        public var at: Date
        public init(adapter: String, requestID: String, command: Command, body: [UInt8], at: Date) {
            self.adapter = adapter; self.requestID = requestID; self.command = command; self.body = body; self.at = at
        }
    }

    public var facts: [Fact] = []
    /// The submitted case's bytes, by case id, for each `accepted` fact.
    public var submitted: [String: [UInt8]] = [:]
    public var touchedCases: [String] = []
    public var touchedDispatches: [String] = []
    public var pushes: [Push] = []
    /// Deliveries acknowledged by RECEIVED.
    public var received: [Int64] = []
    /// Dispatches withdrawn before they were received: their pushes are dropped.
    public var withdrawn: [String] = []
    /// The deliveries of those pushes already stored or in batches before this one (the shell
    /// holds every pending push; the outbox has no index by dispatch). Their pushes in this
    /// batch are not stored at all.
    public var withdrawnDeliveries: [Int64] = []
    public var replies: [StoredReply] = []
    /// The projection rows to write: copies taken from the ledger when the batch was sealed,
    /// so that the commit can run on another thread while the ledger moves on.
    public var caseRows: [CaseRecord] = []
    public var dispatchRows: [DispatchRecord] = []
    public var touchedWhistles: [String] = []
    /// Whistles (with their departments) whose rows to write.
    public var whistleRows: [WhistleRecord] = []
    public var touchedIncidents: [String] = []
    /// Known incidents whose rows to write.
    public var incidentRows: [IncidentRecord] = []
    /// Changes to the waiting rungs, in order.
    public var timerChanges: [TimerChange] = []
    /// A management mode changed (so `modeRows` are written).
    public var modesChanged = false
    /// When a mode changed: every mode in force, to replace the table with.
    public var modeRows: [(scope: String, mode: ManagementMode)]?
    /// The highest delivery id handed out so far (kept in `meta` so ids are never reused).
    public var lastDelivery: Int64 = 0
    /// The holiday schedules deadlines are now computed on, when this batch changes them
    /// (kept in `meta`, so a restart knows what it must catch up on).
    public var appliedCalendar: [Int: YearSchedule]?

    public init() {}

    /// The cases the facts touched, each once: made by `seal`, which needs it anyway.
    public private(set) var sealedCases: Set<String> = []

    /// Copies the final state of every case and dispatch the facts touched.
    public mutating func seal(from ledger: Ledger) {
        // Sized once: grown from empty, a set rehashes its ids at every doubling.
        var seen = Set<String>(minimumCapacity: touchedCases.count)
        caseRows = touchedCases.filter { seen.insert($0).inserted }.compactMap { ledger.cases[$0] }
        sealedCases = seen
        seen = Set(minimumCapacity: touchedDispatches.count)
        dispatchRows = touchedDispatches.filter { seen.insert($0).inserted }.compactMap { ledger.dispatches[$0] }
        seen.removeAll(keepingCapacity: true)
        whistleRows = touchedWhistles.filter { seen.insert($0).inserted }.compactMap { ledger.whistles[$0] }
        seen.removeAll(keepingCapacity: true)
        incidentRows = touchedIncidents.filter { seen.insert($0).inserted }.compactMap { ledger.incidents[$0] }
        if modesChanged {
            modeRows = ledger.modes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }

    public var isEmpty: Bool {
        facts.isEmpty && pushes.isEmpty && received.isEmpty && withdrawn.isEmpty && replies.isEmpty && appliedCalendar == nil
    }

    /// A decision's facts, and the rows they touched (as the ledger noted while applying them).
    public mutating func add(_ facts: [Fact], touched: Footprint) {
        self.facts += facts
        touchedCases += touched.cases
        touchedDispatches += touched.dispatches
        touchedWhistles += touched.whistles
        touchedIncidents += touched.incidents
        timerChanges += touched.timers
        modesChanged = modesChanged || touched.modes
    }
}

/// A fact as stored: its place in the log and the JSON of its change.
public struct LoggedFact: Sendable, Equatable {
    public var seq: Int64
    public var fact: Fact
    public var type: String
    public var data: [UInt8]
}
