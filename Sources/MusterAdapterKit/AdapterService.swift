import ServiceLifecycle

/// An adapter as a swift-service-lifecycle `Service`: started when the group runs, stopped
/// gracefully (BYE, socket closed) on the group's graceful shutdown (SIGTERM, SIGINT) or when its
/// task is cancelled.
public struct AdapterService: Service {
    private let start: @Sendable () -> Void
    private let stop: @Sendable () async -> Void

    public init(start: @escaping @Sendable () -> Void, stop: @escaping @Sendable () async -> Void) {
        self.start = start; self.stop = stop
    }

    public init(_ client: MusterClient) {
        self.init(start: { client.start() }, stop: { await client.stopAndWait() })
    }

    public func run() async throws {
        start()
        // Returns when a graceful shutdown begins; throws when the task is cancelled: either way, stop.
        try? await gracefulShutdown()
        await stop()
    }
}

extension AgencyAdapter {
    public var service: AdapterService { AdapterService(client) }
}

extension PluginAdapter {
    public var service: AdapterService { AdapterService(start: { self.start() }, stop: { await self.stopAndWait() }) }
}
