import ArgumentParser
import Foundation
import MusterConfig
import MusterStore
import ZeroMQ

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "CURVE keys for the broker and its peers.", subcommands: [Gen.self, Init.self, Reload.self])

    struct Gen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gen", abstract: "Write NAME.key (public and secret, mode 0600) and NAME.pub (public only, to hand to the broker's administrator).")

        @Argument(help: "The key's name, e.g. broker or chengguan-erqi-1.") var name: String
        @Option(help: "The folder to write to.") var dir = "data/keys"

        func run() throws {
            let pair = try writeKeyPair(name: name, dir: dir)
            print("public key: \(pair.publicKey)")
            print("for config/peers.yaml:  public_key: \"\(pair.publicKey)\"")
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Write every key file the config names that does not exist yet: the broker's, and each peers.yaml public_key_file with its secret beside it.",
            discussion: "For a development or demonstration setup (make run does it on first start). In production each peer makes its own key pair and sends only the .pub file.")

        @Option(help: "The broker's config file.") var config = "config/muster.yaml"

        func run() throws {
            let files: (serverKey: String, peers: String)?
            do { files = try BrokerConfig.securityFiles(config) } catch { throw CLIError("\(error)") }
            guard let files else { throw CLIError("\(config) has no security section: nothing to do") }
            guard files.serverKey.hasSuffix(".key") else { throw CLIError("security.server_key should name a NAME.key file: \(files.serverKey)") }
            var peerKeys: [String] = []
            do { peerKeys = try PeersConfig.keyFiles(files.peers) } catch { throw CLIError("\(error)") }
            var made = 0, repaired = 0, present = 0
            for path in [files.serverKey] + peerKeys {
                let dir = (path as NSString).deletingLastPathComponent, name = KeyFile.name(of: path)
                let keyPath = KeyFile.path(dir, name, "key"), pubPath = KeyFile.path(dir, name, "pub")
                let fm = FileManager.default
                switch (fm.fileExists(atPath: keyPath), fm.fileExists(atPath: pubPath)) {
                case (true, true):
                    present += 1
                case (false, true) where path == files.serverKey:
                    throw CLIError("\(pubPath) exists without \(keyPath): remove it to make the broker a new pair, or restore the secret")
                case (false, true):
                    present += 1  // a peer's own public key: its secret is on the peer's host
                case (true, false):
                    // The secret is there but its .pub was lost: write it again from the secret file.
                    do { try KeyFile.writePublic(name: name, publicKey: try KeyFile.read(keyPath).public, dir: dir) } catch { throw CLIError("\(error)") }
                    repaired += 1
                case (false, false):
                    try writeKeyPair(name: name, dir: dir)
                    made += 1
                }
            }
            print("\(made) key pair(s) written, \(repaired) .pub file(s) rewritten from their .key, \(present) already there")
        }
    }

    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reload",
            abstract: "Check peers.yaml and the holiday schedules, then tell the running broker to apply them (SIGHUP) and print its verdict.",
            discussion: """
                Revoked keys' sessions are dropped; a new config/calendar/cn-YYYY.yaml replaces a provisional year, and \
                open deadlines it moves are recomputed (an event on each case, a NOTICE to each department). Exit 0 when \
                the running broker applied everything, 1 when it reported problems, 2 when nothing was sent.
                """)

        @Option(help: "The broker's config file.") var config = "config/muster.yaml"
        @Option(help: "The broker's database, if it was started with --db (its pid file is DB.pid).") var db: String?

        func run() throws {
            let cfg: BrokerConfig
            do { cfg = try BrokerConfig.load(config) } catch { throw CLIError("not reloaded; config errors:\n\(error)") }
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
            print("\(keys); holiday schedules OK (official \(cfg.rules.calendar.years.sorted().map(String.init).joined(separator: ", "))); sent SIGHUP to broker pid \(pid)")
            // The broker's own verdict: it writes DB.reload.json once it has applied the reload.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if let v = verdict(), let n = v["reload"] as? Int, n > seen {
                    let errors = v["errors"] as? [String] ?? []
                    let moved = v["deadlines_moved"] as? Int ?? 0
                    let official = (v["official_years"] as? [Int] ?? []).map(String.init).joined(separator: ", ")
                    if errors.isEmpty {
                        print("broker pid \(pid) applied it\(v["keys"].map { " (\($0) keys)" } ?? ""): official holiday schedules \(official); \(moved) deadline(s) moved")
                        return
                    }
                    print("broker pid \(pid) reported problems (what was readable was applied; \(moved) deadline(s) moved):")
                    for e in errors { print("  \(e)") }
                    throw ExitCode(1)
                }
                usleep(50_000)  // polling a file the broker writes; a CLI waiting for an answer
            }
            throw CLIError("broker pid \(pid) was signalled but wrote no verdict to \(statusFile) within 10 s (is it an older muster?)")
        }
    }
}

/// A new key pair as NAME.key (secret, 0600) and NAME.pub in dir.
@discardableResult
func writeKeyPair(name: String, dir: String) throws -> CurveKeyPair {
    let pair = try CurveKeyPair.generate()
    do { try KeyFile.write(name: name, publicKey: pair.publicKey, secretKey: pair.secretKey, dir: dir) } catch { throw CLIError("\(error)") }
    print("wrote \((dir as NSString).appendingPathComponent(name)).key (secret, 0600) and .pub")
    return pair
}
