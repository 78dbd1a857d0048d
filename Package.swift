// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Muster",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "muster", targets: ["muster"]),
        .library(name: "MusterAdapterKit", targets: ["MusterAdapterKit"]),
        // For plugin authors and our own tests: an in-process broker on a temporary database with
        // a settable clock, and a raw MUSTER/1 peer.
        .library(name: "MusterTesting", targets: ["MusterTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // The broker's metrics: recorded through swift-metrics, exported as Prometheus text by `muster broker --metrics`.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The intake adapters' batch import: a source system's CSV export, and Excel's (.xlsx is a zip of XML).
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // libzmq from Debian's libzmq3-dev; no pkgConfig: to avoid a harmless flag warning.
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        // TCMalloc from Debian's libgoogle-perftools-dev: the muster executable allocates through it
        // (glibc's malloc and free were ~10 % of a lifecycle's CPU; docs/PERFORMANCE.md, eleventh round).
        .systemLibrary(name: "CTCMalloc", providers: [.apt(["libgoogle-perftools-dev"])]),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        .target(name: "MusterWire"),
        .target(name: "MusterCore", dependencies: ["MusterWire", .product(name: "Crypto", package: "swift-crypto")]),
        // SQLite's global memory statistics turned off before the store opens (sqlite3_config is
        // variadic: C can call it, Swift cannot). Debian's libsqlite3-dev, as GRDB's.
        .target(name: "CSQLiteSetup", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(name: "MusterStore", dependencies: [
            "MusterCore", "MusterWire", "CSQLiteSetup",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "DequeModule", package: "swift-collections"),
        ]),
        .target(name: "MusterConfig", dependencies: [
            "MusterCore", "WebLogin", .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "MusterBroker", dependencies: [
            "MusterCore", "MusterWire", "MusterStore", "MusterConfig", "ZeroMQ",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HeapModule", package: "swift-collections"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .target(name: "MusterAdapterKit", dependencies: [
            "MusterWire", "ZeroMQ", "MusterConfig",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Department plugins, each its own target under Plugins/ (SwiftPM's own plugin folder is
        // not used: no `.plugin` targets), and the registry `muster adapter` runs them from.
        .target(name: "SimulatedDepartment", dependencies: ["MusterAdapterKit", "MusterConfig", "MusterWire"], path: "Plugins/Simulated"),
        .target(name: "WebhookDepartment", dependencies: [
            "MusterAdapterKit", "MusterConfig", "MusterWire",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ], path: "Plugins/Webhook", exclude: ["receiver.py", "README.md", "openapi.yaml"]),
        // The five departments: each the webhook's transport with its own rules (Plugins/README.md).
        .target(name: "ChengguanDepartment", dependencies: ["WebhookDepartment", "MusterAdapterKit", "MusterConfig", "MusterWire"], path: "Plugins/Chengguan", exclude: ["README.md"]),
        .target(name: "GonganDepartment", dependencies: ["WebhookDepartment", "MusterAdapterKit", "MusterConfig", "MusterWire"], path: "Plugins/Gongan", exclude: ["README.md"]),
        .target(name: "ZhujianDepartment", dependencies: ["WebhookDepartment", "MusterAdapterKit", "MusterConfig", "MusterWire",
                                                 .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                 .product(name: "Crypto", package: "swift-crypto")],
                path: "Plugins/Zhujian", exclude: ["README.md"]),
        .target(name: "ReliDepartment", dependencies: ["WebhookDepartment", "MusterAdapterKit", "MusterConfig", "MusterWire",
                                                 .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                 .product(name: "Crypto", package: "swift-crypto"),
                                                 .product(name: "Logging", package: "swift-log"),
                                                 .product(name: "Yams", package: "Yams")],
                path: "Plugins/Reli", exclude: ["README.md"]),
        .target(name: "GongshuiDepartment", dependencies: ["WebhookDepartment", "MusterAdapterKit", "MusterConfig", "MusterWire",
                                                 .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                 .product(name: "Crypto", package: "swift-crypto"),
                                                 .product(name: "Logging", package: "swift-log")],
                path: "Plugins/Gongshui", exclude: ["README.md"]),
        // Logging in to a web page (the seat console, the screen): PBKDF2 password hashes from _CryptoExtras, sessions by cookie.
        .target(name: "WebLogin", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // The seat console (座席端): a web page served by the adapter; the inbox in GRDB.
        .target(name: "ConsoleDepartment", dependencies: ["MusterAdapterKit", "MusterConfig", "MusterWire", "WebLogin",
                                                  .product(name: "Hummingbird", package: "hummingbird"),
                                                  .product(name: "GRDB", package: "GRDB.swift")],
                path: "Plugins/Console", exclude: ["README.md"]),
        // `muster import`'s parts: an export read (CSV, .xlsx), its columns mapped, the run's state and report.
        .target(name: "TableImport", dependencies: ["WebhookDepartment", "MusterConfig", "MusterWire",
                                            .product(name: "Crypto", package: "swift-crypto"),
                                            .product(name: "CSV", package: "CSV.swift"),
                                            .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                path: "Plugins/Import"),
        // The 12345 hotline's intake (plugin hotline12345): its work orders over signed HTTP, as SUBMITs.
        .target(name: "HotlineIntake", dependencies: ["WebhookDepartment", "MusterAdapterKit", "MusterConfig", "MusterWire", "TableImport",
                                              .product(name: "Hummingbird", package: "hummingbird"),
                                              .product(name: "Crypto", package: "swift-crypto"),
                                              .product(name: "GRDB", package: "GRDB.swift")],
                path: "Plugins/Hotline", exclude: ["README.md"]),
        // The petition office (plugin petition): registration, documents and requests over signed HTTP, as SUBMIT and PETITION.
        .target(name: "PetitionOffice", dependencies: ["WebhookDepartment", "MusterAdapterKit", "MusterConfig", "MusterWire", "TableImport",
                                               .product(name: "Hummingbird", package: "hummingbird"),
                                               .product(name: "Crypto", package: "swift-crypto"),
                                               .product(name: "GRDB", package: "GRDB.swift")],
                path: "Plugins/Petition", exclude: ["README.md"]),
        .target(name: "MusterPlugins", dependencies: ["MusterAdapterKit", "MusterConfig", "SimulatedDepartment", "WebhookDepartment",
                                              "ChengguanDepartment", "GonganDepartment", "ZhujianDepartment", "ReliDepartment", "GongshuiDepartment", "ConsoleDepartment",
                                              "HotlineIntake", "PetitionOffice"],
                path: "Plugins/Registry"),
        .target(name: "MusterTesting", dependencies: [
            "MusterBroker", "MusterStore", "MusterConfig", "MusterCore", "MusterWire", "ZeroMQ",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `muster web`: the operations centre's screen, a MUSTER/1 monitor peer serving HTTP (hummingbird).
        .target(name: "MusterWeb", dependencies: [
            "MusterAdapterKit", "MusterCore", "MusterWire", "MusterConfig", "WebLogin",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "muster", dependencies: [
            "CTCMalloc", "MusterBroker", "MusterAdapterKit", "MusterPlugins", "HotlineIntake", "PetitionOffice", "TableImport", "MusterWeb", "MusterStore", "MusterConfig", "MusterWire",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // libFuzzer targets (make fuzz builds them with -DFUZZING); an ordinary build makes corpus replayers.
        .executableTarget(name: "FuzzWire", dependencies: ["MusterWire"], path: "Fuzz/FuzzWire",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(name: "FuzzCore", dependencies: ["MusterCore", "MusterWire"], path: "Fuzz/FuzzCore",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .testTarget(name: "MusterWireTests", dependencies: [
            "MusterWire", .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "MusterCoreTests", dependencies: [
            "MusterCore", "MusterConfig",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        // The kit's client session as a pure state machine: no sockets, no clock.
        .testTarget(name: "MusterAdapterKitTests", dependencies: ["MusterAdapterKit", "MusterWire"]),
        .testTarget(name: "MusterConfigTests", dependencies: ["MusterConfig", "MusterCore", "MusterWire"]),
        .testTarget(name: "MusterStoreTests", dependencies: [
            "MusterStore", "MusterCore", "MusterConfig", .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "MusterBrokerTests", dependencies: [
            "MusterBroker", "MusterAdapterKit", "MusterPlugins", "SimulatedDepartment", "WebhookDepartment", "ChengguanDepartment", "GonganDepartment", "ZhujianDepartment", "ReliDepartment", "GongshuiDepartment", "ConsoleDepartment", "HotlineIntake", "PetitionOffice", "TableImport", "MusterWeb", "WebLogin", "MusterTesting", "MusterWire", "ZeroMQ", "MusterConfig",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ]
)
