import ArgumentParser
import Foundation
import MusterWire

struct ModeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mode", abstract: "Management modes: 平时 normal, 节假日 holiday, 重大活动 major_event, 应急 emergency.",
        subcommands: [Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Switch a grid prefix (or the whole city) into a mode.")

        @OptionGroup var peer: PeerOptions
        @Argument(help: "normal, holiday, major_event or emergency.") var mode: String
        @Option(help: "A grid path prefix, e.g. zz/erqi (default: the whole city).") var scope: String?

        func run() async throws {
            guard ManagementMode(rawValue: mode) != nil else { throw ValidationError("mode is normal, holiday, major_event or emergency") }
            let (mode, scope) = (self.mode, self.scope)
            let reply = try await Peer(peer, roles: [.ops]).request(.mode) { w in w.field("mode", mode); w.field("scope", scope) }
            let r = reply.json()
            let names = ["normal": "平时", "holiday": "节假日", "major_event": "重大活动", "emergency": "应急"]
            print("mode \(r["mode"] as? String ?? mode) (\(names[mode] ?? "")) in \(r["scope"] as? String ?? "the city"): deadlines of new dispatches follow it")
        }
    }
}
