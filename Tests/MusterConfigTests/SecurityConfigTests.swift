import Foundation
import Testing
@testable import MusterConfig
import MusterCore

/// The security section: CURVE is on in the shipped config, its keys are files that must exist,
/// and peers.yaml is checked entry by entry.
@Suite struct SecurityConfigTests {
    /// Syntactically valid Z85 public keys (the config checks form; the handshake checks keys).
    static func key(_ n: Int) -> String { String(String(format: "%040d", n).map { $0 == "0" ? "a" : $0 }) }

    static func writeKeys(_ names: [String], under config: URL) throws {
        let dir = config.deletingLastPathComponent().appendingPathComponent("data/keys").path
        for (i, n) in names.enumerated() { try KeyFile.write(name: n, publicKey: key(i + 1), secretKey: key(100 + i), dir: dir) }
    }

    static let samplePeers = ["chengguan-sim-1", "gongan-sim-1", "zhujian-sim-1", "reli-sim-1", "gongshui-sim-1", "jiaotong-sim-1", "shichang-sim-1",
                               "hotline-12345", "petition-office", "grid-app", "ops-screen", "ops-desk", "operator"]

    @Test func theShippedConfigNeedsItsKeysAndSaysHowToMakeThem() throws {
        let dir = try ConfigTests.copy()
        let e = try #require(ConfigTests.errors(dir, insecure: false).first)
        #expect(e.key == "security.server_key" && e.line != nil)
        #expect(e.message.contains("broker.key") && e.message.contains("muster keys init"))
        #expect(ConfigTests.errors(dir, insecure: true).isEmpty, "--insecure does not read the keys")
    }

    @Test func withItsKeysTheShippedConfigAdmitsTheSamplePeers() throws {
        let dir = try ConfigTests.copy()
        try Self.writeKeys(["broker"] + Self.samplePeers, under: dir)
        let c = try BrokerConfig.load(dir.appendingPathComponent("muster.yaml").path)
        let s = try #require(c.security)
        #expect(s.serverPublicKey == Self.key(1) && s.serverSecretKey == Self.key(100))
        #expect(Set(s.principals.values.map(\.name)) == Set(Self.samplePeers))
        let cg = try #require(s.principals.values.first { $0.name == "chengguan-sim-1" })
        #expect(cg.roles == [.agency] && cg.agencies == ["chengguan"] && cg.publicKey == Self.key(2))
        let op = try #require(s.principals.values.first { $0.name == "operator" })
        #expect(op.adapters == ["cli-*"] && op.roles == [.intake, .ops, .monitor])
        let secret = try FileManager.default.attributesOfItem(atPath: dir.deletingLastPathComponent().appendingPathComponent("data/keys/broker.key").path)
        #expect((secret[.posixPermissions] as? Int) == 0o600)
        #expect(throws: ConfigErrors.self, "never over an existing key") {
            try KeyFile.write(name: "broker", publicKey: Self.key(9), secretKey: Self.key(9), dir: dir.deletingLastPathComponent().appendingPathComponent("data/keys").path)
        }
    }

    @Test func keyFilesAreReadLenientlyAndCheckedStrictly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func file(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            return path
        }
        // Edited on Windows, quoted as peers.yaml advises: still the same key.
        let crlf = try file("a.key", "\u{FEFF}public: \"\(Self.key(1))\"\r\nsecret: '\(Self.key(2))'\r\n")
        let read = try KeyFile.readSecret(crlf)
        #expect(read.public == Self.key(1) && read.secret == Self.key(2))
        #expect(throws: ConfigErrors.self, "a secret others can read") { try KeyFile.readSecret(try file("b.key", "public: \(Self.key(1))\nsecret: \(Self.key(2))\n", mode: 0o644)) }
        #expect(throws: ConfigErrors.self, "a .pub is not a secret") { try KeyFile.readSecret(try file("c.pub", "public: \(Self.key(1))\n")) }
        #expect(throws: ConfigErrors.self, "a broken secret") { try KeyFile.read(try file("d.key", "public: \(Self.key(1))\nsecret: short\n")) }
        #expect(throws: ConfigErrors.self, "no key at all") { try KeyFile.read(try file("e.pub", "hello\n")) }
    }

    @Test func aMissingPeerKeyFileIsNamedWithItsLine() throws {
        let dir = try ConfigTests.copy()
        try Self.writeKeys(["broker"] + Self.samplePeers.filter { $0 != "reli-sim-1" }, under: dir)
        let errs = ConfigTests.errors(dir, insecure: false)
        #expect(errs.count == 1)
        let e = try #require(errs.first)
        #expect(e.file.hasSuffix("peers.yaml") && e.key == "peers[3].public_key_file" && e.message.contains("reli-sim-1.pub"))
        let text = try String(contentsOf: dir.appendingPathComponent("peers.yaml"), encoding: .utf8)
        #expect(e.line == text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("reli-sim-1.pub") }! + 1)
    }

    @Test func badPeerEntriesAreEachReported() throws {
        let dir = try ConfigTests.copy(editing: "peers.yaml") { _ in
            """
            peers:
              - {name: a, public_key: "short", adapters: [a], roles: [agency], agencies: [chengguan]}
              - {name: b, public_key: "\(Self.key(5))", public_key_file: b.pub, adapters: [b], roles: [agency]}
              - {name: c, public_key: "\(Self.key(6))", adapters: [c], roles: [mayor], agencies: [nowhere]}
              - {name: c, public_key: "\(Self.key(6))", adapters: [d], roles: [monitor]}
            """
        }
        try Self.writeKeys(["broker"], under: dir)
        let errs = ConfigTests.errors(dir, insecure: false)
        #expect(errs.contains { $0.key == "peers[0].public_key" && $0.message.contains("Z85") })
        #expect(errs.contains { $0.key == "peers[1]" && $0.message.contains("exactly one") })
        #expect(errs.contains { $0.key == "peers[2].roles[0]" && $0.message.contains("mayor") })
        #expect(errs.contains { $0.key == "peers[2].agencies[0]" && $0.message.contains("nowhere") })
        #expect(errs.contains { $0.key == "peers[3]" && $0.message.contains("twice") })
        #expect(errs.contains { $0.key == "peers[3].name" && $0.message.contains("twice") })
        #expect(errs.allSatisfy { $0.line != nil })
    }
}
