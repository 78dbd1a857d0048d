import ArgumentParser
import Foundation
import MusterConfig
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
            var wanted = [files.serverKey]
            do { wanted += try PeersConfig.keyFiles(files.peers) } catch { throw CLIError("\(error)") }
            var made = 0
            for path in wanted {
                let dir = (path as NSString).deletingLastPathComponent
                let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                let keyPath = (dir as NSString).appendingPathComponent("\(name).key")
                let pubPath = (dir as NSString).appendingPathComponent("\(name).pub")
                let fm = FileManager.default
                switch (fm.fileExists(atPath: keyPath), fm.fileExists(atPath: pubPath)) {
                case (true, true), (false, true): continue  // done, or a peer's own public key (its secret is not ours)
                case (true, false):
                    // The secret is there but its .pub was lost: write it again from the secret file.
                    try "public: \(try KeyFile.read(keyPath).public)\n".write(toFile: pubPath, atomically: true, encoding: .utf8)
                case (false, false):
                    try writeKeyPair(name: name, dir: dir)
                }
                made += 1
            }
            print("\(made) key pair(s) written, \(wanted.count - made) already there")
        }
    }

    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reload",
            abstract: "Check peers.yaml, then tell the running broker to apply it (SIGHUP): revoked keys' sessions are dropped.")

        @Option(help: "The broker's config file.") var config = "config/muster.yaml"
        @Option(help: "The broker's database, if it was started with --db (its pid file is DB.pid).") var db: String?

        func run() throws {
            let cfg: BrokerConfig
            do { cfg = try BrokerConfig.load(config) } catch { throw CLIError("not reloaded; config errors:\n\(error)") }
            guard let security = cfg.security else { throw CLIError("\(config) has no security section: nothing to reload") }
            let pidFile = BrokerCommand.pidFile(db: db ?? cfg.databasePath)
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw CLIError("no broker pid in \(pidFile): is the broker running on this database? (give --db if it was started with one)")
            }
            guard kill(pid, SIGHUP) == 0 else { throw CLIError("broker pid \(pid) (from \(pidFile)) is not running") }
            print("peers.yaml OK (\(security.principals.count) keys); sent SIGHUP to broker pid \(pid)")
        }
    }
}

/// A new key pair as NAME.key (secret, 0600) and NAME.pub in dir.
@discardableResult
func writeKeyPair(name: String, dir: String) throws -> CurveKeyPair {
    let pair = try CurveKeyPair.generate()
    try KeyFile.write(name: name, publicKey: pair.publicKey, secretKey: pair.secretKey, dir: dir)
    print("wrote \((dir as NSString).appendingPathComponent(name)).key (secret, 0600) and .pub")
    return pair
}
