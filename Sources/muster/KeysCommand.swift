import ArgumentParser
import Foundation
import ZeroMQ

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "CURVE keys for the broker and its peers.", subcommands: [Gen.self])

    struct Gen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gen", abstract: "Write NAME.key (public and secret, mode 0600) and NAME.pub (public only, to hand to the broker's administrator).")

        @Argument(help: "The key's name, e.g. broker or chengguan-erqi-1.") var name: String
        @Option(help: "The folder to write to.") var dir = "data/keys"

        func run() throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let keyPath = (dir as NSString).appendingPathComponent("\(name).key")
            let pubPath = (dir as NSString).appendingPathComponent("\(name).pub")
            guard !FileManager.default.fileExists(atPath: keyPath) else { throw CLIError("\(keyPath) exists; remove it first to rotate the key") }
            let pair = try CurveKeyPair.generate()
            guard FileManager.default.createFile(atPath: keyPath, contents: Data("public: \(pair.publicKey)\nsecret: \(pair.secretKey)\n".utf8),
                                                 attributes: [.posixPermissions: 0o600]) else { throw CLIError("cannot write \(keyPath)") }
            try "public: \(pair.publicKey)\n".write(toFile: pubPath, atomically: true, encoding: .utf8)
            print("wrote \(keyPath) (secret, 0600) and \(pubPath)")
            print("public key: \(pair.publicKey)")
        }
    }
}
