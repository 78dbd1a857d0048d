import ArgumentParser
import Foundation
import MusterConfig

/// `muster agency add`: a new department by config alone. It writes what is mechanical — the
/// adapter's file, its key pair and its peers.yaml entry — and prints what is a decision for the
/// centre: which categories (and grids) the department leads, to add to routing.yaml. Then
/// `muster reload` applies all of it to the running broker, checked whole.
struct AgencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agency", abstract: "Departments: add one by config alone (adapter file, key, peers.yaml entry).",
        subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Write config/adapters/CODE.yaml, its key pair and its peers.yaml entry; print what to add to routing.yaml.",
            discussion: """
                Then add the agency and its categories to routing.yaml, run `muster reload` (the broker checks the whole \
                config and applies it, or nothing; cases waiting at the triage queue for its categories are routed to it), \
                and start the adapter: `muster adapter --config config/adapters/CODE.yaml` (make run starts every file there).
                """)

        @Option(help: "The broker's config file (its folder holds adapters/ and peers.yaml).") var config = "config/muster.yaml"
        @Argument(help: "The agency's code, ASCII pinyin (yuanlin).") var code: String
        @Option(help: "Its name, Chinese first (园林绿化).") var name: String
        @Option(help: "Its plugin: simulated (a stand-in department) or webhook (each push POSTed, signed, to --url); muster plugins lists them.")
        var plugin = "simulated"
        @Option(help: "The department's work-order endpoint, for --plugin webhook.") var url: String?
        @Option(help: "Where its key pair goes.") var keys = "data/keys"

        func validate() throws {
            guard code.range(of: #"^[a-z][a-z0-9_]{1,31}$"#, options: .regularExpression) != nil else {
                throw ValidationError("the code is 2–32 lowercase ASCII letters, digits or _, starting with a letter (yuanlin), not \(code)")
            }
            guard ["simulated", "webhook"].contains(plugin) else { throw ValidationError("--plugin is simulated or webhook, not \(plugin)") }
            if plugin == "webhook", url.flatMap(URL.init(string:))?.scheme.map({ ["http", "https"].contains($0) }) != true {
                throw ValidationError("--plugin webhook needs --url http(s)://…")
            }
        }

        func run() throws {
            let folder = (config as NSString).deletingLastPathComponent
            let adapterPath = (folder as NSString).appendingPathComponent("adapters/\(code).yaml")
            let peersPath = (folder as NSString).appendingPathComponent("peers.yaml")
            let adapter = "\(code)-1"
            let fm = FileManager.default
            guard !fm.fileExists(atPath: adapterPath) else { throw CLIError("\(adapterPath) exists: \(code) has an adapter already") }
            let peers = (try? String(contentsOfFile: peersPath, encoding: .utf8)) ?? ""
            guard !peers.contains("adapters: [\(adapter)]") else { throw CLIError("\(peersPath) already admits \(adapter)") }
            // Paths as the shipped files write them: relative to the file that names them.
            let keysFromAdapters = Self.relative(keys, from: (adapterPath as NSString).deletingLastPathComponent)
            let keysFromPeers = Self.relative(keys, from: folder)
            try writeKeyPair(name: adapter, dir: keys)
            let serverKey = "\(keysFromAdapters)/broker.pub"
            let ds: String
            if plugin == "webhook" {
                // The shared secret the department checks each POST's signature with (Plugins/Webhook/README.md).
                let secretPath = ((adapterPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("\(code).webhook-secret")
                var bytes = [UInt8](repeating: 0, count: 32)
                for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
                let secret = bytes.map { String(format: "%02x", $0) }.joined()
                guard fm.createFile(atPath: secretPath, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw CLIError("cannot write \(secretPath)")
                }
                print("wrote \(secretPath) (0600): give it to the department, to check each POST's X-Muster-Signature")
                ds = "plugin: webhook\nsettings:\n  url: \(url!)\n  secret_file: \(code).webhook-secret\n  timeout: 10s\n"
            } else {
                ds = "plugin: simulated\nsettings:\n  sign_after: 300ms\n  finish_after: 2s\n  report_after: 3s\n"
            }
            let text = """
                # \(name) (\(code)): written by `muster agency add`.
                adapter: \(adapter)
                agency: \(code)
                name: \(name)
                roles: [agency]
                broker: tcp://127.0.0.1:7400
                window: 1000
                \(ds)curve:
                  server_key: \(serverKey)
                  key: \(keysFromAdapters)/\(adapter).key

                """
            do {
                try text.write(toFile: adapterPath, atomically: true, encoding: .utf8)
                let entry = """
                      - name: \(adapter)\(String(repeating: " ", count: max(1, 28 - adapter.count)))# \(name)
                        public_key_file: \(keysFromPeers)/\(adapter).pub
                        adapters: [\(adapter)]
                        roles: [agency]
                        agencies: [\(code)]

                    """
                try (peers.hasSuffix("\n") || peers.isEmpty ? peers : peers + "\n").appending(entry)
                    .write(toFile: peersPath, atomically: true, encoding: .utf8)
            } catch { throw CLIError("\(error)") }
            print("""
                wrote \(adapterPath) (plugin \(plugin)), its key pair in \(keys), and \(adapter) in \(peersPath)

                Now add to \((folder as NSString).appendingPathComponent("routing.yaml")):

                  agencies:
                    - code: \(code)
                      name: \(name)
                      supervisor: …                 # who supervises it (督办)

                  categories:
                    - code: …                       # e.g. tree_pruning
                      name: …                       # e.g. 树木修剪
                      lead: \(code)
                      keywords: […]                 # words of a complaint that name it

                (and, if it serves part of the city only, an instance in grids.yaml:
                   - adapter: \(adapter)
                     agency: \(code)
                     serves: [zz/…])

                then: muster reload --config \(config)     # checked whole, applied or nothing
                      muster adapter --config \(adapterPath)
                """)
        }

        /// `dir` as a path relative to `base` (both relative to the working directory).
        static func relative(_ dir: String, from base: String) -> String {
            let b = base.split(separator: "/").filter { $0 != "." }
            let d = dir.split(separator: "/").filter { $0 != "." }
            var common = 0
            while common < min(b.count, d.count), b[common] == d[common] { common += 1 }
            let up = Array(repeating: "..", count: b.count - common)
            return (up + d[common...].map(String.init)).joined(separator: "/")
        }
    }
}
