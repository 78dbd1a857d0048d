import ArgumentParser
import Foundation
import MusterWire

struct ModeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mode", abstract: "Management modes: 平时 normal, 节假日 holiday, 重大活动 major_event, 应急 emergency.",
        subcommands: [Set.self, List.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Switch a grid prefix (or the whole city) into a mode.")

        @OptionGroup var peer: PeerOptions
        @Argument(help: "normal 平时, holiday 节假日, major_event 重大活动 or emergency 应急 (code or name).") var mode: String
        @Option(help: "A grid path prefix, e.g. zz/erqi (default: the whole city).") var scope: String?

        func run() async throws {
            let mode = try Choices.modes.resolve(self.mode), scope = self.scope
            let reply = try await Peer(peer, roles: [.ops]).request(.mode) { w in w.field("mode", mode); w.field("scope", scope) }
            let r = reply.json()
            let set = r["mode"] as? String ?? mode
            print("mode \(set) (\(Choices.modes.name(of: set))) in \(r["scope"] as? String ?? "the city"): deadlines of new dispatches follow it")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Show the modes in force, by scope (QUERY modes).")

        @OptionGroup var peer: PeerOptions
        @Flag(help: "Print the raw RESULT.") var json = false

        func run() async throws {
            let reply = try await Peer(peer, roles: [.monitor]).request(.query) { w in w.field("what", "modes") }
            if json { print(prettyJSON(reply.body)); return }
            let modes = reply.json()["modes"] as? [[String: Any]] ?? []
            if modes.isEmpty {
                print("no mode set: normal (平时) everywhere")
                return
            }
            print("modes in force (the most specific scope covering a grid decides; elsewhere normal 平时):")
            let width = (modes.map { ($0["scope"] as? String ?? "").count }.max() ?? 0) + 2
            for m in modes {
                let scope = m["scope"] as? String ?? "", mode = m["mode"] as? String ?? ""
                print("  \(scope.padding(toLength: width, withPad: " ", startingAt: 0))\(mode) (\(Choices.modes.name(of: mode)))"
                      + ((m["scope_name"] as? String).map { "  \($0)" } ?? ""))
            }
        }
    }
}
