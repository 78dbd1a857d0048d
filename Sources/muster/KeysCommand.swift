import ArgumentParser
import Foundation
import MusterConfig
import MusterStore
import ZeroMQ

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "CURVE keys for the broker and its peers.", subcommands: [Gen.self, Init.self, ReloadCommand.self])

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
}

/// A new key pair as NAME.key (secret, 0600) and NAME.pub in dir.
@discardableResult
func writeKeyPair(name: String, dir: String) throws -> CurveKeyPair {
    let pair = try CurveKeyPair.generate()
    do { try KeyFile.write(name: name, publicKey: pair.publicKey, secretKey: pair.secretKey, dir: dir) } catch { throw CLIError("\(error)") }
    print("wrote \((dir as NSString).appendingPathComponent(name)).key (secret, 0600) and .pub")
    return pair
}
