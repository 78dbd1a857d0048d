import ArgumentParser
import Foundation
import Logging
import MusterPlugins
import MusterConfig
import MusterCore
import MusterStore

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Check every config file; report each error with file, line and key.")

    @Option(help: "The broker's config file.") var config = "config/muster.yaml"
    @Option(help: "A folder of adapter configs to check too.") var adapters: String?
    @Flag(help: "Skip the security section (keys need not exist yet).") var insecure = false

    func run() throws {
        var problems: [String] = []
        var summary: [String] = []
        var broker: BrokerConfig?
        do {
            let c = try BrokerConfig.load(config, insecure: insecure)
            broker = c
            summary.append(c.security.map { "security: CURVE, \($0.principals.count) keys in \($0.peersFile)" } ?? "security: none (plain TCP; the broker starts only with --insecure)")
            summary.append("broker \(c.name): \(c.rules.routing.agencies.count) agencies, \(c.rules.routing.categories.count) categories, \(c.rules.grids.names.count) grids, \(c.rules.grids.dedicated.count) dedicated grids")
            summary.append("sla: \(c.rules.sla.rules.count) rules, ladders for \(c.rules.sla.ladders.keys.map(\.rawValue).sorted().joined(separator: ", ")); holiday schedules for \(c.rules.calendar.years.sorted().map(String.init).joined(separator: ", "))")
            summary.append("files: " + c.files.joined(separator: ", "))
            let check = c.checkCalendar(today: Date())
            if let e = check.error { problems.append(e) }
            if let w = check.warning { summary.append("warning: \(w)") }
        } catch {
            problems.append(contentsOf: error.errors.map(\.description))
        }
        let dir = adapters ?? ((config as NSString).deletingLastPathComponent as NSString).appendingPathComponent("adapters")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        for f in files {
            let path = (dir as NSString).appendingPathComponent(f)
            // Against the broker's files when they loaded (agency, jurisdictions); else on its own.
            do {
                let a: AdapterConfig
                if let broker { a = try AdapterConfig.load(path, against: broker) } else { a = try AdapterConfig.load(path) }
                // Its plugin's settings, checked by the plugin itself.
                _ = try PluginRegistry.make(a, configPath: path, context: .init(adapter: a.adapter, agency: a.agency, name: a.name,
                                                                                 logger: Logger(label: "muster.check-config")))
                summary.append("adapter \(a.adapter) (\(a.name))" + (a.plugin.map { ", plugin \($0)" } ?? ""))
            } catch {
                problems.append(contentsOf: error.errors.map(\.description))
            }
        }
        if problems.isEmpty {
            summary.forEach { print($0) }
            print("config OK")
        } else {
            problems.forEach { print($0) }
            print("\(problems.count) problem(s)")
            throw ExitCode(1)
        }
    }
}

struct VerifyLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify-log", abstract: "Check the event log's hash chain and that replaying it gives the projections.")

    @Option(help: "The broker's config file (for the database path).") var config = "config/muster.yaml"
    @Option(help: "The SQLite database (overrides the config).") var db: String?

    func run() throws {
        let path: String
        if let db { path = db } else {
            do { path = try BrokerConfig.load(config, insecure: true).databasePath } catch { throw CLIError("\(error)") }
        }
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("no database at \(path)") }
        let store = try Store(path: path)
        let report = try store.verifyLog()
        print(report)
        let replayed = try store.replay()
        let projected = try store.loadLedger()
        var mismatches = 0
        for (id, c) in projected.cases where replayed.cases[id] != c { mismatches += 1; if mismatches <= 10 { print("  case \(id): projection differs from its replayed log") } }
        for (id, d) in projected.dispatches where replayed.dispatches[id] != d { mismatches += 1; if mismatches <= 10 { print("  dispatch \(id): projection differs from its replayed log") } }
        if replayed.cases.count != projected.cases.count { mismatches += 1; print("  \(replayed.cases.count) cases in the log, \(projected.cases.count) in the projection") }
        if replayed.dispatches.count != projected.dispatches.count {
            mismatches += 1; print("  \(replayed.dispatches.count) dispatches in the log, \(projected.dispatches.count) in the projection")
        }
        // The waiting rungs are written as changes (added, fired, clocks stopped): the table must
        // hold exactly the rungs the log leaves waiting.
        let inTable = Dictionary(projected.timers.all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let byLog = Dictionary(replayed.timers.all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (side, rungs, ids) in [("the timers table", projected.timers.count, inTable.count), ("the log", replayed.timers.count, byLog.count)] where rungs != ids {
            mismatches += 1; print("  a rung is held twice by \(side): \(rungs) rungs, \(ids) ids")
        }
        for id in Set(inTable.keys).union(byLog.keys).sorted() where inTable[id] != byLog[id] {
            mismatches += 1
            if mismatches <= 10 {
                print("  rung \(id): " + (inTable[id] == nil ? "waiting by the log, not in the timers table"
                                          : byLog[id] == nil ? "in the timers table, not waiting by the log" : "differs from the log"))
            }
        }
        if projected.modes != replayed.modes { mismatches += 1; print("  modes: \(projected.modes) in the table, \(replayed.modes) by the log") }
        for id in Set(projected.whistles.keys).union(replayed.whistles.keys).sorted() where projected.whistles[id] != replayed.whistles[id] {
            mismatches += 1
            if mismatches <= 10 {
                print("  whistle \(id): " + (projected.whistles[id] == nil ? "in the log, not in the whistles table"
                                              : replayed.whistles[id] == nil ? "in the whistles table, not in the log" : "its rows differ from its replayed log"))
            }
        }
        print(mismatches == 0 ? "projections equal the replayed log: \(projected.cases.count) cases, \(projected.dispatches.count) dispatches, "
                                + "\(projected.timers.count) waiting rungs, \(projected.whistles.count) whistles"
                              : "\(mismatches) projection mismatch(es)")
        if !report.ok || mismatches > 0 { throw ExitCode(1) }
    }
}

struct LifecycleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lifecycle", abstract: "Print a lifecycle table, guards and effects included (or Graphviz with --dot).")

    @Flag(help: "Graphviz dot source.") var dot = false
    @Option(help: "case, dispatch, whistle (吹哨), summon (a summoned department, 报到) or petition (信访).") var machine = "case"

    static let machines = ["case", "dispatch", "whistle", "summon", "petition"]

    func validate() throws {
        guard Self.machines.contains(machine) else { throw ValidationError("--machine is one of \(Self.machines.joined(separator: ", ")), not \(machine)") }
    }

    func run() {
        if dot {
            let source = switch machine {
            case "case": CaseMachine.dot()
            case "dispatch": DispatchMachine.dot()
            case "whistle": WhistleMachine.dot()
            case "petition": PetitionMachine.dot()
            default: SummonMachine.dot()
            }
            print(source, terminator: "")
            return
        }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        func row<S: RawRepresentable<String>, T: RawRepresentable<String>, G, E>(_ r: Transition<S, T, G, E>, zh: (S) -> String,
                                                                               guardName: (G) -> String, effect: (E) -> String)
            -> (String, String, String, String, String) {
            ("\(r.from.rawValue)(\(zh(r.from)))", "\(r.trigger.rawValue) \(r.label)", r.guards.map(guardName).joined(separator: ", "),
             "\(r.to.rawValue)(\(zh(r.to)))", r.effects.map(effect).joined(separator: ", "))
        }
        print(pad("from", 16) + pad("trigger", 24) + pad("guards", 40) + pad("to", 16) + "effects")
        let rows = switch machine {
        case "case": CaseMachine.table.rows.map { row($0, zh: \.chinese, guardName: \.rawValue, effect: \.name) }
        case "dispatch": DispatchMachine.table.rows.map { row($0, zh: \.chinese, guardName: \.rawValue, effect: \.name) }
        case "whistle": WhistleMachine.table.rows.map { row($0, zh: \.chinese, guardName: \.rawValue, effect: \.name) }
        case "petition": PetitionMachine.table.rows.map { row($0, zh: \.chinese, guardName: \.rawValue, effect: \.name) }
        default: SummonMachine.table.rows.map { row($0, zh: \.chinese, guardName: { _ in "" }, effect: \.name) }
        }
        for r in rows { print(pad(r.0, 16) + pad(r.1, 24) + pad(r.2, 40) + pad(r.3, 16) + r.4) }
        print("any other (state, trigger): invalid_transition")
    }
}

/// `muster backup --to FILE`: a consistent copy of the broker's database while it runs
/// (docs/OPERATIONS.md, "Backup and restore").
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Copy the broker's database consistently, while it runs (SQLite's online backup), and check the copy.",
        discussion: "Restore: stop the broker, put the copy in the database's place (remove DB-wal and DB-shm), start it, run muster verify-log.")

    @Option(help: "The broker's config file (for the database path).") var config = "config/muster.yaml"
    @Option(help: "The SQLite database (overrides the config).") var db: String?
    @Option(help: "The backup file to write (must not exist).") var to: String

    func run() throws {
        let path: String
        if let db { path = db } else {
            do { path = try BrokerConfig.load(config, insecure: true).databasePath } catch { throw CLIError("\(error)") }
        }
        do { print(try Store.backup(database: path, to: to)) } catch {
            throw CLIFailure(.other, "\(error)")
        }
    }
}
