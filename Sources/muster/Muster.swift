import ArgumentParser
import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import ZeroMQ

@main
struct Muster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muster",
        abstract: "Muster — the message bus of a city operations centre (城市运行中心). 网格吹哨、部门报到.",
        discussion: """
            Enumerated options take the code or the Chinese name: --state 已办结 is --state finished, \
            --agency 热力 is --agency reli, --category 暖气不热 is --category heating_not_warm.

            \(Failure.helpTable)
            """,
        version: "muster \(MusterClient.version) (MUSTER/1)",
        subcommands: [
            BrokerCommand.self, AdapterCommand.self, SubmitCommand.self, CaseCommand.self, CasesCommand.self,
            StatsCommand.self, ModeCommand.self, WhistleCommand.self, WhistlesCommand.self,
            AssignCommand.self, RejectCommand.self, VerifyCommand.self, EvaluateCommand.self, ExtendCommand.self, BacklogCommand.self,
            KeysCommand.self, ReloadCommand.self, AgencyCommand.self, PluginsCommand.self, CheckConfigCommand.self, VerifyLogCommand.self, LifecycleCommand.self, BenchCommand.self,
            CalendarCommand.self, ClassifyCommand.self, CorrectionsCommand.self, ImportCommand.self, WebCommand.self, StatusCommand.self, BackupCommand.self,
        ])

    /// As ArgumentParser's own, except that a `CLIFailure` prints its message and exits with
    /// its own code (the table in the help), not 1.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data("error: \(failure.message)\n".utf8))
            Foundation.exit(failure.kind.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

/// Options every command that talks to a broker shares.
struct PeerOptions: ParsableArguments {
    @Option(help: "The broker's endpoint (or set MUSTER_ENDPOINT).")
    var endpoint: String = ProcessInfo.processInfo.environment["MUSTER_ENDPOINT"] ?? "tcp://127.0.0.1:7400"

    @Option(help: "Seconds to wait for the broker's answer.")
    var timeout: Double = 10

    @Option(help: "The broker's public key file, for CURVE (or set MUSTER_SERVER_KEY).")
    var serverKey: String = ProcessInfo.processInfo.environment["MUSTER_SERVER_KEY"] ?? "data/keys/broker.pub"

    @Option(help: "This peer's key file from muster keys gen, for CURVE (or set MUSTER_KEY).")
    var key: String = ProcessInfo.processInfo.environment["MUSTER_KEY"] ?? "data/keys/operator.key"

    @Flag(help: "Plain TCP (only against a broker run with --insecure).")
    var insecure = false

    @Option(help: "The broker's config, for agency and category names (--agency 热力, --category 暖气不热).")
    var config = "config/muster.yaml"

    var routing: RoutingSource { RoutingSource(config: config) }

    /// CURVE from the key files, unless --insecure. The defaults are the files `make run` writes,
    /// so that the CLI works against it from the project folder.
    func curve() throws -> MusterClient.Options.Curve? {
        if insecure { return nil }
        let fm = FileManager.default
        let missing = [serverKey, key].filter { !fm.fileExists(atPath: $0) }
        guard missing.isEmpty else {
            throw CLIFailure(.keyFiles, "no such file: \(missing.joined(separator: ", ")). CURVE needs the broker's public key (--server-key, now \(serverKey)) and this peer's key file (--key, now \(key)); make run writes both under data/keys. Give --insecure only for a broker run with --insecure")
        }
        do { return try curveKeys(serverKey: serverKey, key: key) } catch {
            throw CLIFailure(.keyFiles, "\(error)")
        }
    }
}

/// CURVE options from key files; nil when neither is given.
func curveKeys(serverKey: String?, key: String?) throws -> MusterClient.Options.Curve? {
    guard serverKey != nil || key != nil else { return nil }
    guard let serverKey, let key else { throw CLIError("CURVE needs both the broker's public key file and this peer's key file") }
    do {
        let server = try KeyFile.read(serverKey)
        let own = try KeyFile.readSecret(key)
        return MusterClient.Options.Curve(serverKey: server.public, keys: CurveKeyPair(publicKey: own.public, secretKey: own.secret))
    } catch { throw CLIError("\(error)") }
}

/// Logging to stderr at a level from MUSTER_LOG (debug, info, warning, error), as text or JSON
/// lines (`--log-format`, or MUSTER_LOG_FORMAT); set once.
enum CLILogging {
    static func bootstrap(default level: Logger.Level = .info, format: LogFormat? = nil) {
        let env = ProcessInfo.processInfo.environment
        let chosen = format ?? env["MUSTER_LOG_FORMAT"].flatMap(LogFormat.init(rawValue:)) ?? .text
        let threshold = env["MUSTER_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? level
        LoggingSystem.bootstrap { label in
            switch chosen {
            case .text:
                var h = StreamLogHandler.standardError(label: label)
                h.logLevel = threshold
                return h
            case .json:
                var h = JSONLogHandler(label: label)
                h.logLevel = threshold
                return h
            }
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Writes a line to stdout unbuffered, so that it reaches a pipe at once (tests and
/// `make run` wait for these lines).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
