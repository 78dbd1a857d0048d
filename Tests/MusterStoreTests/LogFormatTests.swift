import Foundation
import PropertyBased
import Testing
@testable import MusterCore
@testable import MusterStore
import MusterWire

/// The log's v2 form (docs/LOG-FORMAT.md): what is written reads back the same, looks as the
/// document says, and what cannot be read is refused naming the row.
@Suite struct LogFormatTests {
    static let t = Date(ms: 1_795_000_000_000)  // 2026-11-18T19:06:40+08:00
    static let attachment: MusterWire.Attachment = StoreFixtures.make(["url": "https://oss.example/1.jpg", "sha256": "ab"])
    static let bareAttachment: MusterWire.Attachment = StoreFixtures.make(["url": "https://oss.example/2.jpg"])

    static func record(full: Bool) -> CaseRecord {
        CaseRecord(caseID: "C0000000001", source: .camera, externalRef: "cam-\"7\"\\", category: "street_vending", grid: "zz/erqi",
                   priority: .urgent, title: "标题\n第二行\t\u{1}", address: full ? "解放路1号" : nil, state: .triage, round: 0,
                   lead: full ? "chengguan" : nil, assists: full ? ["a", "b"] : [], assigned: full, returnedBy: full ? ["reli"] : [],
                   mergedInto: full ? "C0000000002" : nil, mergedReports: 3, acceptedAt: t, updatedAt: t.adding(ms: 1),
                   resolveBy: full ? t.adding(ms: -1) : nil, satisfaction: full ? .basicallySatisfied : nil,
                   escalation: full ? 2 : nil, backlog: full ? "涉及历史遗留产权纠纷" : nil, petition: full ? petition(full: true) : nil)
    }

    static func dispatch(full: Bool) -> DispatchRecord {
        DispatchRecord(dispatchID: "D0000000001", caseID: "C0000000001", agency: "reli", role: .assist, round: 2, state: .acked,
                       sentAt: Date(ms: 10), ackBy: Date(ms: 11), resolveBy: Date(ms: 12), returnBy: Date(ms: -13),
                       ackedAt: full ? Date(ms: 14) : nil, finishedAt: full ? Date(ms: 15) : nil, handler: full ? "张" : nil,
                       extensions: full ? 1 : nil, firstResolveBy: full ? Date(ms: 9) : nil,
                       milestones: full ? [Milestone(name: "停工", within: "4wh", dueBy: Date(ms: 16), reachedAt: Date(ms: 17)),
                                           Milestone(name: "处罚 \"罚款\"", within: "7wd", dueBy: Date(ms: 18)),
                                           Milestone(name: "拆除", within: "20wd")] : nil)
    }

    static func rung(full: Bool) -> LadderTimer {
        LadderTimer(id: full ? "D0000000001/ack/1" : "C0000000001/ack/1", caseID: "C0000000001", dispatchID: full ? "D0000000001" : nil, agency: full ? "reli" : nil,
                    clock: .ack, rung: 1, level: 2, notice: "supervise", to: ["agency", "ops"], due: t, deadline: t.adding(ms: 999))
    }

    static func incident(full: Bool) -> IncidentRecord {
        IncidentRecord(incidentID: "I0000000001", ref: "TS-2026-118", agency: full ? "gongshui" : nil, title: "解放路停水",
                       categories: ["water_outage"], grids: ["zz/erqi/jiefanglu"], message: "预计22:00恢复供水",
                       cause: full ? "DN300管道爆裂" : nil, startsAt: Date(ms: 1_795_000_000_000), expectedEnd: Date(ms: 1_795_028_800_000),
                       declaredAt: Date(ms: 1_795_000_000_000), declaredBy: "gongshui-1")
    }

    static func whistle(full: Bool) -> WhistleRecord {
        WhistleRecord(whistleID: "W0000000001", grid: "erqita", kind: .residentConcern, reason: "商圈秩序 \"联合\"", caseID: full ? "C0000000001" : nil,
                      blownBy: "jiefanglu-street", street: full ? "jiefanglu-street" : nil, blownAt: t, reportWithinMs: 1_800_000)
    }

    static func summon(full: Bool) -> SummonRecord {
        SummonRecord(summonID: "W0000000001/gongan", whistleID: "W0000000001", agency: "gongan", summonedAt: t, reportBy: t.adding(ms: 1_800_000))
    }

    static func whistleRung(full: Bool) -> LadderTimer {
        LadderTimer(id: "W0000000001/gongan/whistle/0", caseID: "W0000000001", dispatchID: "W0000000001/gongan", agency: "gongan",
                    clock: .whistle, rung: 0, level: 1, notice: "remind", to: ["agency"], due: t, deadline: t.adding(ms: 600_000))
    }

    static func incidentRung(full: Bool) -> LadderTimer {
        LadderTimer(id: "I0000000001/incident/0", caseID: "I0000000001", dispatchID: nil, agency: full ? "gongshui" : nil,
                    clock: .incident, rung: 0, level: 2, notice: "emergency_supply", to: ["ops"], due: t, deadline: t)
    }

    static func notice(full: Bool) -> PetitionNotice {
        PetitionNotice(kind: full ? .reply : .acceptance, number: full ? "郑信复〔2026〕12号" : nil, title: full ? "答复意见书" : nil,
                       issuer: full ? "郑州市城市管理局" : nil, url: full ? "https://xf.example/doc/12" : nil, sha256: full ? String(repeating: "a", count: 64) : nil,
                       servedAt: t, windowCloses: full ? t.adding(ms: 30 * 86_400_000) : nil)
    }

    static func objection(full: Bool) -> PetitionObjection {
        PetitionObjection(dispatchID: "D0000000001", agency: "zhujian", reason: "属燃气公司职责", at: t, upheld: full ? false : nil)
    }

    static func petition(full: Bool) -> PetitionRecord {
        var p = PetitionRecord(state: full ? .reviewing : .registered, repeatKey: full ? String(repeating: "b", count: 64) : nil,
                               about: full ? ["zhujian"] : [], repeatOf: full ? "C0000000009" : nil)
        if full {
            p.notices = [notice(full: false), notice(full: true)]
            p.objection = objection(full: true)
            p.acceptedAt = t; p.windowCloses = t; p.decideBy = t.adding(ms: 1); p.reviewRequestedAt = t; p.recheckRequestedAt = t; p.endedAt = t
        }
        return p
    }

    /// Every change, with all its optional values (`full`) or none.
    static func changes(full: Bool) -> [Fact.Change] {
        let note: String? = full ? "备注 \"引号\"" : nil
        return [
            .accepted(record(full: full)), .merged(into: "C2"), .reportMerged(from: "C3"), .triage(reason: full ? "unclassified" : "no_route", suggestions: full ? [CategorySuggestion(category: "manhole_cover", confidence: 0.412),
                CategorySuggestion(category: "road_collapse", confidence: 0.3), CategorySuggestion(category: "waterlogging", confidence: 0.05)] : []),
            .consultation,
            .dispatched(dispatch(full: full)), .assigned(lead: "gongan", assists: full ? ["x"] : [], note: note),
            .rejected(reason: "r"), .acked(dispatchID: "D1", handler: full ? "王五" : nil, note: note),
            .progressed(dispatchID: "D1", note: note, attachments: full ? [attachment, bareAttachment] : []),
            .resolved(dispatchID: "D1", lead: true, result: full ? "ok" : nil, note: note, attachments: full ? [attachment] : []),
            .resolved(dispatchID: "D2", lead: false, result: full ? "ok" : nil, note: note, attachments: []),
            .milestoneReached(dispatchID: "D1", milestone: "停工", late: full, nextDueBy: full ? t : nil),
            .returned(dispatchID: "D1", reason: .insufficientInformation, note: note), .cancelled(dispatchID: "D1"),
            .verified(passed: true, note: note), .verified(passed: false, note: note), .evaluated(.dissatisfied, note: note), .closed,
            .scheduled([rung(full: full)]), .escalated(rung(full: full)),
            .extended(dispatchID: "D1", resolveBy: t, by: "2wd", reason: "等待配件"),
            .deadlinesMoved(dispatchID: "D1", ackBy: t, resolveBy: t.adding(ms: 1), returnBy: t.adding(ms: 2), reason: "节假日安排变更"),
            .backlogged(dispatchID: "D1", explanation: "涉及历史遗留产权纠纷"), .modeSet(.majorEvent, scope: "zz/erqi"),
            .whistleBlown(whistle(full: full)), .summoned(summon(full: full)),
            .reported(summonID: "W0000000001/gongan", status: .onSite, note: note, lat: full ? 34.7533 : nil, lon: full ? 113.6653 : nil),
            .released(summonID: "W0000000001/gongan", note: note), .stoodDown(note: note, override: full ? "转常规处置" : nil),
            .escalated(whistleRung(full: full)),
            .downstream(subject: "D1", DownstreamRef(status: "30", ref: full ? "RL-WO-1" : nil, update: full ? "RL-77-3" : nil)),
            .adapterHealth(AdapterHealth(adapter: "reli-1", agency: full ? "reli" : nil, state: .down,
                                         detail: full ? "HTTP 503" : nil, failures: full ? 5 : nil)),
            .incidentDeclared(incident(full: full)),
            .incidentEnded(outcome: full ? .handBack : .resolved, note: note),
            .handedBack(incidentID: "I0000000001"),
            .escalated(incidentRung(full: full)),
            .petitionNotified(notice(full: full)), .petitionObjected(objection(full: false)),
            .petitionRuled(upheld: full, reason: note), .petitionRequested(full ? .recheck : .review, reason: note, decideBy: t),
            .petitionWindowClosed(full ? .recheckRequest : .reviewRequest),
            .petitionRepeat(split: true, reason: note), .petitionRepeat(split: false, reason: note),
        ]
    }

    static func type(_ change: Fact.Change) -> String { Fact(caseID: "", at: t, actor: "", change: change).type }

    static func roundTrip(_ change: Fact.Change) throws -> Fact.Change {
        let type = type(change)
        return try LogFormat.Reader().change(seq: 1, type: type, data: Data(LogFormat.encode(change, type: type)))
    }

    @Test(arguments: changes(full: true) + changes(full: false))
    func everyChangeReadsBackAsWritten(_ change: Fact.Change) throws {
        #expect(try Self.roundTrip(change) == change)
    }

    @Test func theWrittenFormIsTheDocumentedOne() throws {
        let acked = Fact.Change.acked(dispatchID: "D0000000001", handler: "王五", note: "已签收")
        #expect(String(decoding: LogFormat.encode(acked, type: "dispatch.acked"), as: UTF8.self)
                == #"{"v":3,"type":"dispatch.acked","dispatch_id":"D0000000001","handler":"王五","note":"已签收"}"#)
        let doc = try String(contentsOf: StoreFixtures.repo.appendingPathComponent("docs/LOG-FORMAT.md"), encoding: .utf8)
        #expect(doc.contains(#"{"v":2,"type":"dispatch.acked","dispatch_id":"D0000000001","handler":"王五","note":"已签收"}"#),
                "the document's examples are v2 rows; v3 differs only in clock.scheduled")
        let scheduled = String(decoding: LogFormat.encode(.scheduled([Self.rung(full: true)]), type: "clock.scheduled"), as: UTF8.self)
        #expect(doc.contains(scheduled), "the document shows v3's clock.scheduled as written: \(scheduled)")
        let moved = String(decoding: LogFormat.encode(.deadlinesMoved(dispatchID: "D1", ackBy: Self.t, resolveBy: Self.t.adding(ms: 5),
                                                                     returnBy: Self.t.adding(ms: 86_400_000), reason: "r"),
                                                      type: "dispatch.deadlines_moved"), as: UTF8.self)
        #expect(moved == #"{"v":3,"type":"dispatch.deadlines_moved","dispatch_id":"D1","due":{"ack_by":"2026-11-18T19:06:40.000+08:00","resolve_by":"2026-11-18T19:06:40.005+08:00","return_by":"2026-11-19T19:06:40.000+08:00"},"reason":"r"}"#)
    }

    @Test func timesAreRFC3339InTheCityOffsetToTheMillisecond() {
        #expect(LogTime.string(Self.t) == "2026-11-18T19:06:40.000+08:00")
        #expect(LogTime.string(Date(ms: 0)) == "1970-01-01T08:00:00.000+08:00")
        #expect(LogTime.string(Date(ms: -1)) == "1970-01-01T07:59:59.999+08:00")
        #expect(LogTime.parse("2026-11-18T11:06:40Z") == Self.t)
        #expect(LogTime.parse("2026-11-18T19:06:40+08:00") == Self.t)
        #expect(LogTime.parse("2026-11-18T06:06:40.5-05:00") == Self.t.adding(ms: 500))
        for bad in ["2026-02-30T00:00:00+08:00", "2026-11-18T19:06:40.1234+08:00", "2026-11-18T19:06:40", "2026-11-18 19:06:40+08:00",
                    "2026-11-18T24:00:00Z", "2026-11-18T19:06:40.+08:00", "2026-11-18T19:06:40+0800", "", "x"] {
            #expect(LogTime.parse(bad) == nil, "\(bad)")
        }
        var rng = Xoshiro(seed: (7, 0x9E37_79B9_7F4A_7C15, 1, 2))  // seeded: a failure runs again
        for _ in 0..<5000 {
            let ms = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &rng)
            let text = LogTime.string(Date(ms: ms))
            #expect(text.utf8.count == 29 && LogTime.parse(text)?.ms == ms, "\(ms) → \(text)")
        }
    }

    /// Random walks of commands through the core: every fact they make reads back from the log
    /// form as it was, and the facts read back replay to the same ledger.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func aRandomWalkOfCommandsReadsBackAndReplaysTheSame(_ seed: UInt64) throws {
        var walk = RandomWalk(seed: seed)
        let facts = walk.run(steps: 600)
        var replayed = Ledger(), read = Ledger()
        for f in facts {
            let back = try Self.roundTrip(f.change)
            #expect(back == f.change)
            replayed.apply(f)
            read.apply(Fact(caseID: f.caseID, at: f.at, actor: f.actor, change: back))
        }
        #expect(read == replayed && replayed.cases == walk.ledger.cases && replayed.dispatches == walk.ledger.dispatches)
        #expect(Set(facts.map(\.type)).count >= 18, "the walk reaches most fact types: \(Set(facts.map(\.type)).sorted())")
    }

    /// docs/LOG-FORMAT.md names, for each type and record, the keys `LogWriter` writes: `?` for
    /// those written only with a value. This fails when either changes alone.
    @Test func theDocumentNamesEveryKeyTheWriterWrites() throws {
        let doc = try String(contentsOf: StoreFixtures.repo.appendingPathComponent("docs/LOG-FORMAT.md"), encoding: .utf8)
        let sections = Self.tables(doc)
        let types = try #require(sections["Fact types"])
        var seen = Set<String>()
        for (full, bare) in zip(Self.changes(full: true), Self.changes(full: false)) {
            let type = Self.type(full)
            seen.insert(type)
            let documented = try #require(types[type], "\(type) is not in the document")
            #expect(try Self.keys(LogFormat.encode(full, type: type)).subtracting(["v", "type"]) == documented.all, "\(type) with every value")
            #expect(try Self.keys(LogFormat.encode(bare, type: type)).subtracting(["v", "type"]) == documented.required, "\(type) with none")
        }
        #expect(Set(types.keys) == seen, "the document lists no other type")
        #expect(seen == StoreContractTests.allTypes)
        let records: [(String, [UInt8], [UInt8])] = [
            ("The case record", LogWriter.caseJSON(Self.record(full: true)), LogWriter.caseJSON(Self.record(full: false))),
            ("The dispatch record", LogWriter.dispatchJSON(Self.dispatch(full: true)), LogWriter.dispatchJSON(Self.dispatch(full: false))),
            ("A ladder rung", LogWriter.rungJSON(Self.rung(full: true)), LogWriter.rungJSON(Self.rung(full: false))),
            ("A scheduled clock", LogWriter.clockJSON([Self.rung(full: true)], stage: 2), LogWriter.clockJSON([Self.rung(full: true)], stage: nil)),
            ("The whistle record", LogWriter.whistleJSON(Self.whistle(full: true)), LogWriter.whistleJSON(Self.whistle(full: false))),
            ("The summon record", LogWriter.summonJSON(Self.summon(full: true)), LogWriter.summonJSON(Self.summon(full: false))),
            ("The incident record", LogWriter.incidentJSON(Self.incident(full: true)), LogWriter.incidentJSON(Self.incident(full: false))),
            ("The petition record", LogWriter.petitionJSON(Self.petition(full: true)), LogWriter.petitionJSON(Self.petition(full: false))),
            ("The notice record", LogWriter.noticeJSON(Self.notice(full: true)), LogWriter.noticeJSON(Self.notice(full: false))),
            ("The objection record", LogWriter.objectionJSON(Self.objection(full: true)), LogWriter.objectionJSON(Self.objection(full: false))),
        ]
        for (title, full, bare) in records {
            let table = try #require(sections.first { $0.key.hasPrefix(title) }?.value, "no table \(title)")
            let documented = Documented(required: Set(table.filter { $0.value.required.isEmpty == false }.keys),
                                        all: Set(table.keys))
            #expect(try Self.keys(full) == documented.all, "\(title) with every value")
            #expect(try Self.keys(bare) == documented.required, "\(title) with none")
        }
    }

    /// v3 writes a schedule's shared values once; what cannot be written so is written whole,
    /// and v2's whole rungs still read.
    @Test func aScheduleReadsBackInEitherForm() throws {
        let due = Self.t
        func rung(_ id: String, _ clock: ClockKind, _ i: Int, owner: String? = "D0000000007", deadline: Date = Self.t.adding(ms: 60_000)) -> LadderTimer {
            LadderTimer(id: id, caseID: "C0000000003", dispatchID: owner, agency: owner == nil ? nil : "zhujian", clock: clock, rung: i,
                        level: i + 1, notice: "remind", to: ["agency"], due: due.adding(ms: Int64(i)), deadline: deadline)
        }
        let staged = [rung("D0000000007/ack/0", .ack, 0), rung("D0000000007/milestone.2/0", .milestone, 0), rung("D0000000007/milestone.2/1", .milestone, 1),
                      rung("D0000000007/milestone.3/0", .milestone, 0), rung("D0000000007/ack/1", .ack, 1),
                      rung("D0000000007/ack/2", .ack, 2, deadline: Self.t.adding(ms: 5))]
        let compact = LogFormat.encode(.scheduled(staged), type: "clock.scheduled")
        #expect(try Self.keys(compact) == ["v", "type", "case_id", "dispatch_id", "agency", "clocks"])
        #expect(try Self.roundTrip(.scheduled(staged)) == .scheduled(staged), "stages, order and a second run of a clock kept")
        let caseClocks = [rung("C0000000003/verify/0", .verify, 0, owner: nil), rung("C0000000003/evaluate/0", .evaluate, 0, owner: nil)]
        #expect(try Self.keys(LogFormat.encode(.scheduled(caseClocks), type: "clock.scheduled")) == ["v", "type", "case_id", "clocks"])
        #expect(try Self.roundTrip(.scheduled(caseClocks)) == .scheduled(caseClocks))
        for odd in [[rung("X/ack/0", .ack, 0)], [rung("D0000000007/ack/0", .ack, 0), rung("D0000000008/ack/0", .ack, 0, owner: "D0000000008")],
                    [rung("D0000000007/milestone.x/0", .milestone, 0)], [rung("D0000000007/ack/01", .ack, 1)], []] {
            #expect(try Self.keys(LogFormat.encode(.scheduled(odd), type: "clock.scheduled")) == ["v", "type", "rungs"], "\(odd.map(\.id))")
            #expect(try Self.roundTrip(.scheduled(odd)) == .scheduled(odd))
        }
        let v2 = #"{"v":2,"type":"clock.scheduled","rungs":[{"id":"D0000000001/ack/1","case_id":"C0000000001","clock":"ack","rung":1,"level":2,"notice":"supervise","to":["agency","ops"],"dispatch_id":"D0000000001","agency":"reli","due":"2026-11-18T19:06:40.000+08:00","deadline":"2026-11-18T19:06:40.999+08:00"}]}"#
        #expect(try LogFormat.Reader().change(seq: 1, type: "clock.scheduled", data: Data(v2.utf8)) == .scheduled([Self.rung(full: true)]))
    }

    @Test func whatCannotBeReadIsRefusedNamingTheRow() {
        let reader = LogFormat.Reader()
        func reason(_ type: String, _ json: String) -> String? {
            do { _ = try reader.change(seq: 42, type: type, data: Data(json.utf8)); return nil } catch { return "\(error)" }
        }
        #expect(reason("case.closed", #"{"v":4,"type":"case.closed"}"#)?.contains("v4") == true)
        #expect(reason("case.closed", #"{"v":4,"type":"case.closed"}"#)?.contains("seq 42") == true)
        #expect(reason("case.rejected", #"{"v":2,"type":"case.closed"}"#)?.contains("type column") == true)
        #expect(reason("case.verified", #"{"v":2,"type":"case.verified","passed":false}"#)?.contains("case.rework") == true,
                "the data says rework whatever the type says")
        #expect(reason("dispatch.acked", #"{"v":2,"type":"dispatch.acked"}"#)?.contains("dispatch_id") == true)
        #expect(reason("dispatch.extended", #"{"v":2,"type":"dispatch.extended","dispatch_id":"D1","resolve_by":1795000000000,"by":"1d","reason":"r"}"#) != nil,
                "a time is RFC 3339, not milliseconds")
        #expect(reason("case.closed", #"{"nonsense":{}}"#) != nil)
        #expect(reason("case.closed", #"{"closed":{}}"#) == nil, "v1")
        #expect(reason("case.rework", #"{"verified":{"passed":true}}"#)?.contains("case.verified") == true)
    }

    // MARK: the document's tables

    struct Documented: Equatable {
        var required: Set<String>
        var all: Set<String>
    }

    /// `### title` → first column → the backquoted keys of the second column (fact types) or of
    /// the first (records); `key`? is optional.
    static func tables(_ doc: String) -> [String: [String: Documented]] {
        var out: [String: [String: Documented]] = [:]
        var section = ""
        let key = #/`([a-z_0-9.]+)`(\?)?/#
        for line in doc.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("### ") { section = String(line.dropFirst(4)); continue }
            guard line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, let first = cells[1].firstMatch(of: key) else { continue }
            if section == "Fact types" {
                var d = Documented(required: [], all: [])
                for m in cells[2].matches(of: key) {
                    d.all.insert(String(m.1))
                    if m.2 == nil { d.required.insert(String(m.1)) }
                }
                out[section, default: [:]][String(first.1)] = d
            } else {
                // A record's row: "required" is non-empty when the key has no `?`.
                out[section, default: [:]][String(first.1)] = Documented(required: first.2 == nil ? [String(first.1)] : [], all: [])
            }
        }
        return out
    }

    static func keys(_ json: [UInt8]) throws -> Set<String> {
        Set((try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] ?? [:]).keys)
    }
}

/// Random commands, most of them refused, through the core on the real config.
struct RandomWalk {
    var rng: Xoshiro
    var ledger = Ledger()
    var now = Date(ms: 1_795_000_000_000)
    init(seed: UInt64) { rng = Xoshiro(seed: (seed, 0x9E37_79B9_7F4A_7C15, 1, 2)) }  // seeded: a failing walk runs again

    mutating func run(steps: Int) -> [Fact] {
        var facts: [Fact] = []
        let agencies = ["chengguan", "gongan", "zhujian", "reli", "jiaotong"]
        for step in 0..<steps {
            now = now.adding(ms: Int64.random(in: 1000...7_200_000, using: &rng))
            let open = ledger.dispatches.values.filter(\.state.isOpen).sorted { $0.dispatchID < $1.dispatchID }
            let cases = ledger.cases.keys.sorted()
            let d = open.randomElement(using: &rng)
            let c = cases.randomElement(using: &rng) ?? "C0000000001"
            let agency = Actor(adapter: "\(d?.agency ?? "x")-1", roles: [.agency], agency: d?.agency)
            let did = d?.dispatchID ?? "D0000000001"
            let command: (CaseCommand, Actor)?
            switch Int.random(in: 0..<14, using: &rng) {
            case 0, 1:
                let category = ["street_vending", "road_collapse", "heating_not_warm", "noise", "manhole_cover"].randomElement(using: &rng)!
                let body: [String: Any] = ["id": "s\(step)", "case": [
                    "source": "hotline_12345", "external_ref": "w\(step)", "category": category, "title": "随机 \(step)",
                    "location": ["grid": ["zz/erqi/jiefanglu", "zz/jinshui/renminlu"].randomElement(using: &rng)!,
                                 "address": "路\(Int.random(in: 1...4, using: &rng))号"]]]
                command = (.submit(StoreFixtures.make(body)), Harness.hotline)
            case 2: command = (.ack(StoreFixtures.make(["id": "a\(step)", "dispatch_id": did, "handler": "张三"])), agency)
            case 3: command = (.progress(StoreFixtures.make(["id": "p\(step)", "dispatch_id": did, "note": "在处置",
                                                             "attachments": [["url": "https://f.example/\(step).jpg"]]])), agency)
            case 4, 5: command = (.resolve(StoreFixtures.make(["id": "r\(step)", "dispatch_id": did, "result": "ok"])), agency)
            case 6: command = (.return(StoreFixtures.make(["id": "x\(step)", "dispatch_id": did, "reason": "not_our_duty"])), agency)
            case 7: command = (.verify(StoreFixtures.make(["id": "v\(step)", "case_id": c, "passed": Bool.random(using: &rng)])), Harness.grid)
            case 8:
                let s = Satisfaction.allCases.randomElement(using: &rng)!.rawValue
                command = (.evaluate(StoreFixtures.make(["id": "e\(step)", "case_id": c, "satisfaction": s])), Harness.hotline)
            case 9: command = (.assign(StoreFixtures.make(["id": "as\(step)", "case_id": c, "lead": agencies.randomElement(using: &rng)!])), Harness.ops)
            case 10: command = (.extend(StoreFixtures.make(["id": "ex\(step)", "dispatch_id": did, "by": "1wd", "reason": "等待配件"])), agency)
            case 11: command = (.backlog(StoreFixtures.make(["id": "b\(step)", "dispatch_id": did, "explanation": "涉及历史遗留产权纠纷，需协调"])), agency)
            case 12:
                let mode = ManagementMode.allCases.randomElement(using: &rng)!.rawValue
                command = (.mode(StoreFixtures.make(["id": "m\(step)", "mode": mode, "scope": "zz/erqi"])), Harness.ops)
            default:
                command = nil
                if let next = ledger.timers.all.min(by: { ($0.due, $0.id) < ($1.due, $1.id) }) {
                    now = max(now, next.due)
                    facts += ledger.fire(next.id, of: next.owner, now: now).facts
                }
            }
            if let (cmd, actor) = command, case .success(let decision) = ledger.decide(cmd, by: actor, rules: StoreFixtures.rules, now: now) {
                facts += decision.facts
            }
        }
        return facts
    }
}
