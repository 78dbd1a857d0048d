import ArgumentParser
import Foundation
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
                summary.append("adapter \(a.adapter) (\(a.name))")
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
        print(mismatches == 0 ? "projections equal the replayed log: \(projected.cases.count) cases, \(projected.dispatches.count) dispatches"
                              : "\(mismatches) projection mismatch(es)")
        if !report.ok || mismatches > 0 { throw ExitCode(1) }
    }
}

struct LifecycleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lifecycle", abstract: "Print the case lifecycle table (or Graphviz with --dot).")

    @Flag(help: "Graphviz dot source.") var dot = false

    func run() {
        if dot { print(Lifecycle.dot(), terminator: ""); return }
        print("from".padding(toLength: 14, withPad: " ", startingAt: 0) + "trigger".padding(toLength: 20, withPad: " ", startingAt: 0)
              + "to".padding(toLength: 14, withPad: " ", startingAt: 0) + "effects")
        for r in Lifecycle.table {
            print("\(r.from.rawValue)(\(r.from.chinese))".padding(toLength: 14, withPad: " ", startingAt: 0)
                  + "\(r.trigger.rawValue) \(r.label)".padding(toLength: 20, withPad: " ", startingAt: 0)
                  + "\(r.to.rawValue)(\(r.to.chinese))".padding(toLength: 14, withPad: " ", startingAt: 0)
                  + r.effects.map(\.rawValue).joined(separator: ", "))
        }
        print("any other (state, trigger): invalid_transition")
    }
}
