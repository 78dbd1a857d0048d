import ArgumentParser
import Foundation
import MusterConfig
import MusterStore

/// `muster reload` (also `muster keys reload`): check the whole config, tell the running broker to
/// apply it (SIGHUP), and print the broker's own verdict.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Check the whole config (routing, grids, sla, calendar, peers), then tell the running broker to apply it (SIGHUP) and print its verdict.",
        discussion: """
            All of it is applied, or with any error none. Cases already dispatched keep their owners; new ones follow \
            the new rules; a case waiting at the triage queue that the new routing gives an owner is routed. Revoked \
            keys' sessions are dropped; a new config/calendar/cn-YYYY.yaml replaces a provisional year, and open \
            deadlines it moves are recomputed (an event on each case, a NOTICE to each department). The endpoint, the \
            database and security on or off take a restart. Exit 0 when the running broker applied everything, 1 when \
            it reported problems, 2 when nothing was sent.
            """)

    @Option(help: "The broker's config file.") var config = "config/muster.yaml"
    @Option(help: "The broker's database, if it was started with --db (its pid file is DB.pid).") var db: String?
    @Flag(help: "The broker runs with --insecure: its config's security section is not checked (and peers are not reloaded).") var insecure = false

    func run() throws {
        let cfg: BrokerConfig
        do { cfg = try BrokerConfig.load(config, insecure: insecure) } catch {
            // Nothing was sent: the running broker keeps what it has.
            FileHandle.standardError.write(Data("error: not reloaded (nothing sent to the broker); config errors:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        let database = db ?? cfg.databasePath
        // The broker holding the database's lock, not whatever pid a file left by a crash
        // names (that pid may belong to another process, or another broker, by now).
        guard let pid = DatabaseLock.runningBroker(database: database) else {
            throw CLIError("no broker holds \(DatabaseLock.lockPath(database: database)): is the broker running on this database? (give --db if it was started with one)")
        }
        let statusFile = BrokerCommand.reloadStatusFile(db: db ?? cfg.databasePath)
        func verdict() -> [String: Any]? {
            guard let data = FileManager.default.contents(atPath: statusFile),
                  let v = try? JSONSerialization.jsonObject(with: data) as? [String: Any], (v["pid"] as? Int) == Int(pid) else { return nil }
            return v
        }
        let seen = verdict()?["reload"] as? Int ?? 0
        guard kill(pid, SIGHUP) == 0 else {
            throw CLIError("cannot signal broker pid \(pid): \(String(cString: strerror(errno))) (run as the broker's user)")
        }
        let keys = cfg.security.map { "peers.yaml OK (\($0.principals.count) keys)" } ?? "no security section (--insecure broker): peers not reloaded"
        print("routing, grids and sla OK (\(cfg.rules.routing.agencies.count) agencies, \(cfg.rules.routing.categories.count) categories); \(keys); holiday schedules OK (official \(cfg.rules.calendar.years.sorted().map(String.init).joined(separator: ", "))); sent SIGHUP to broker pid \(pid)")
        // The broker's own verdict: it writes DB.reload.json once it has applied the reload.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let v = verdict(), let n = v["reload"] as? Int, n > seen {
                let errors = v["errors"] as? [String] ?? []
                let moved = v["deadlines_moved"] as? Int ?? 0
                let official = (v["official_years"] as? [Int] ?? []).map(String.init).joined(separator: ", ")
                if errors.isEmpty {
                    let routed = v["routed_from_triage"] as? Int ?? 0
                    print("broker pid \(pid) applied it\(v["keys"].map { " (\($0) keys)" } ?? ""): official holiday schedules \(official); \(moved) deadline(s) moved; \(routed) waiting case(s) routed")
                    return
                }
                print("broker pid \(pid) reported problems" + ((v["applied"] as? Bool) == false ? " and applied nothing:" : " (\(moved) deadline(s) moved):"))
                for e in errors { print("  \(e)") }
                throw ExitCode(1)
            }
            usleep(50_000)  // polling a file the broker writes; a CLI waiting for an answer
        }
        throw CLIError("broker pid \(pid) was signalled but wrote no verdict to \(statusFile) within 10 s (is it an older muster?)")
    }
}
