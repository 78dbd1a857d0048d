import Foundation
import MusterCore
import MusterStore
import MusterWire

extension Broker {
    /// QUERY: answered from the store (what is durable), as `RESULT`.
    func query(_ q: Query, _ now: Date, _ actor: Actor) -> (Command, [UInt8]) {
        do {
            switch q.what {
            case .case:
                guard let id = q.caseID, let c = try store.caseRecord(id) else {
                    return (.error, Messages.error(re: q.id, WireError(.unknownCase, "no case \(q.caseID ?? "")")))
                }
                if let department = Self.departmentOnly(actor), !self.department(department, maySee: id) {
                    return (.error, Messages.error(re: q.id, WireError(.forbidden, "case \(id) is a petition (信访) not forwarded to \(department)")))
                }
                let dispatches = try store.dispatches(ofCase: id)
                let timeline = try store.facts(after: 0, limit: 10_000, caseID: id)
                let links = q.chain == true ? try store.chainLinks(timeline.map(\.seq)) : [:]
                return (.result, Messages.ok(re: q.id) { w in
                    w.raw("case", Messages.caseJSON(c, grids: config.rules.grids))
                    let calendar = config.rules.calendar
                    w.array("dispatches", dispatches.map { Messages.dispatchJSON($0, calendar: calendar) })
                    w.array("timeline", timeline.map { Messages.timelineEntry($0, calendar: calendar, link: links[$0.seq]) })
                    if q.chain == true {
                        w.object("chain") { c in
                            c.field("checked", links.count)
                            c.field("intact", links.count == timeline.count && links.values.allSatisfy(\.intact))
                        }
                    }
                })
            case .cases:
                if let t = q.updatedSince, Timestamp.parse(t) == nil {
                    return (.error, Messages.error(re: q.id, .badField("updated_since", "\"\(t)\" is not a time")))
                }
                if q.phone != nil, !actor.roles.contains(.ops) {
                    return (.error, Messages.error(re: q.id, WireError(.forbidden, "finding cases by the reporter's phone is for role ops", field: "phone")))
                }
                let filter = Store.CaseFilter(state: q.state, agency: q.agency, grid: q.grid,
                                              overdueAt: q.overdue == true ? now : nil, after: q.after, limit: q.limit ?? 100,
                                              source: q.source?.rawValue, updatedSince: q.updatedSince.flatMap(Timestamp.parse), phone: q.phone)
                let listed = try store.cases(filter)
                let only = Self.departmentOnly(actor)
                let cases = only.map { a in listed.filter { self.department(a, maySee: $0.caseID) } } ?? listed
                return (.result, Messages.ok(re: q.id) { w in
                    w.array("cases", cases.map { Messages.caseJSON($0, grids: config.rules.grids) })
                    w.field("next", listed.count == filter.limit ? listed.last?.caseID : nil)
                })
            case .modes:
                // The modes in force by grid prefix (none listed: 平时 normal everywhere).
                let names = config.rules.grids.names
                return (.result, Messages.ok(re: q.id) { w in
                    w.array("modes", ledger.modes.sorted { $0.key < $1.key }.map { scope, mode in
                        var m = JSONWriter()
                        m.field("scope", scope); m.field("scope_name", names[scope]); m.field("mode", mode.rawValue)
                        return m.finish()
                    })
                })
            case .stats:
                let since = q.since.flatMap(Timestamp.parse), until = q.until.flatMap(Timestamp.parse)
                let stats = try store.stats(since: since, until: until)
                let whistles = try store.whistleStats(since: since, until: until)
                return (.result, Messages.ok(re: q.id) { w in
                    Messages.stats(stats, into: &w)
                    w.object("whistles") { Messages.whistleStats(whistles, grids: config.rules.grids, into: &$0) }
                })
            case .whistle:
                guard let id = q.whistleID, let wh = try store.whistles([id]).first else {
                    return (.error, Messages.error(re: q.id, WireError(.unknownWhistle, "no whistle \(q.whistleID ?? "")")))
                }
                let timeline = try store.facts(after: 0, limit: 10_000, caseID: id)
                return (.result, Messages.ok(re: q.id) { w in
                    w.raw("whistle", Messages.whistleJSON(wh, grids: config.rules.grids, now: now))
                    w.array("timeline", timeline.map { Messages.timelineEntry($0) })
                })
            case .whistles:
                let list = try store.recentWhistles(openOnly: q.state != "all", limit: q.limit ?? 100)
                return (.result, Messages.ok(re: q.id) { w in
                    w.array("whistles", list.map { Messages.whistleJSON($0, grids: config.rules.grids, now: now) })
                })
            case .incidents:
                // Committed rows: what a peer is shown has been durably declared.
                let list = try store.incidents(activeOnly: q.state != "all", limit: q.limit ?? 100)
                return (.result, Messages.ok(re: q.id) { w in w.array("incidents", list.map(Messages.incidentJSON)) })
            }
        } catch {
            logger.error("query failed", metadata: ["error": "\(error)"])
            return (.error, Messages.error(re: q.id, WireError(.internal, "query failed")))
        }
    }
}

extension Messages {
    /// A share to four places (0 when there is nothing to count).
    static func rate(_ n: Int, _ d: Int) -> Double { d == 0 ? 0 : (Double(n) / Double(d) * 10_000).rounded() / 10_000 }

    static func stats(_ s: Store.Stats, into w: inout JSONWriter) {
        w.field("accepted", s.accepted)
        w.object("by_state") { b in for (k, v) in s.byState.sorted(by: { $0.key < $1.key }) { b.field(JSONWriter.Key(k), v) } }
        w.field("satisfaction_rate", rate(s.satisfied, s.rated))
        w.array("agencies", s.agencies.map { a in
            var o = JSONWriter()
            o.field("agency", a.agency)
            o.field("dispatches", a.dispatches)
            o.field("acked", a.acked)
            o.field("finished", a.finished)
            o.field("returned", a.returned)
            o.field("timely_sign_rate", rate(a.ackedOnTime, a.dispatches))
            o.field("on_time_finish_rate", rate(a.finishedOnTime, a.dispatches))
            o.field("return_rate", rate(a.returned, a.dispatches))
            o.field("rework_rate", rate(a.reworked, a.finished))
            o.field("redo_rate", rate(a.redone, a.rated))
            o.field("satisfaction_rate", rate(a.satisfied, a.rated))
            return o.finish()
        })
        let p = s.petitions
        w.object("petitions") { o in
            o.field("registered", p.registered); o.field("accepted", p.accepted); o.field("finished", p.finished)
            o.field("rated", p.rated); o.field("replied", p.replied); o.field("review_requested", p.reviewRequested); o.field("repeats", p.repeats)
            o.field("timely_acceptance_rate", rate(p.acceptedOnTime, p.accepted))    // 及时受理率
            o.field("on_time_finish_rate", rate(p.finishedOnTime, p.finished))       // 按期办结率
            o.field("satisfaction_rate", rate(p.satisfied, p.rated))                 // 参评群众满意率
            o.field("participation_rate", rate(p.rated, p.finished))                 // 群众参评率
            o.field("review_rate", rate(p.reviewRequested, p.replied))               // 复查率
            o.field("repeat_rate", rate(p.repeats, p.registered))                    // 重复信访率
        }
    }
}
