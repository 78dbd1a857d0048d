import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks (not tests): intake, lifecycle, latency.")
    func run() async throws { print("todo") }
}
