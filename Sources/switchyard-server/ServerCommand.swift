import ArgumentParser
import Logging
import ServiceLifecycle
import SwitchyardConfigDoc
import SwitchyardServer

#if canImport(Glibc)
import Glibc
#endif

@main
struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard-server",
        abstract: "The Switchyard config sync server: versioned, layered, signed edge configs.",
        subcommands: [Serve.self, Token.self, Keygen.self],
        defaultSubcommand: Serve.self)
}

struct StoreOptions: ParsableArguments {
    @Option(help: "postgres://user@host:port/db for a PostgreSQL store shared by several servers; default: a SQLite file in --data.")
    var database: String?

    @Option(help: "Folder for the SQLite file, the signing key and the first root token.")
    var data: String = "server-data"

    func open(logger: Logger) async throws -> any ConfigStore {
        let store: any ConfigStore
        if let database {
            guard database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") else {
                throw ValidationError("--database takes a postgres:// URL (leave it out for the embedded SQLite store)")
            }
            store = try PostgresStore(url: database, logger: logger)
        } else {
            try ServerFiles.makeDirectory(data)
            store = try SQLiteStore(path: "\(data)/switchyard.sqlite")
        }
        try await store.migrate()
        return store
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: Int = 8480

    @Option(help: "Ed25519 private key file (base64) that signs configs; default: <data>/signing-key, created when missing.")
    var signingKey: String?

    @Option(help: "The signing key's id, which edges use to pick the verify key.")
    var keyId: String = "k1"

    @Option(help: "Per edge key: requests per second / burst (\"off\" for none).")
    var edgeRateLimit: String = "5/20"

    @Option(help: "Per operator token: requests per second / burst (\"off\" for none).")
    var operatorRateLimit: String = "50/200"

    @Option(help: "Largest request body in bytes (catalog uploads may be up to 64 MiB).")
    var maxBody: Int = 4 << 20

    @Option(help: "Seconds a signed config envelope stays valid.")
    var envelopeLifetime: Int = 7 * 86_400

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "switchyard-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var options = ServerOptions()
        guard let edgeLimit = RateLimiter.Limit(text: edgeRateLimit), let operatorLimit = RateLimiter.Limit(text: operatorRateLimit) else {
            throw ValidationError("a rate limit is <requests per second>/<burst>, e.g. 5/20, or off")
        }
        options.edgeRateLimit = edgeLimit
        options.operatorRateLimit = operatorLimit
        options.maxBodyBytes = maxBody
        options.envelopeLifetime = Int64(envelopeLifetime)
        let store = try await storeOptions.open(logger: logger)
        let signer = try ServerFiles.signer(path: signingKey ?? "\(storeOptions.data)/signing-key", keyId: keyId,
                                            create: signingKey == nil, logger: logger)
        let core = ServerCore(store: store, signer: signer, options: options, logger: logger)
        core.start()
        // Layers stored before the server refused invalid members: a warning each, without delaying the port.
        Task { await core.config.reportInvalidLayers() }
        if let secret = try await core.bootstrapRootToken() {
            try ServerFiles.makeDirectory(storeOptions.data)
            let path = "\(storeOptions.data)/root-token"
            try ServerFiles.writePrivate(path: path, text: secret + "\n")
            logger.notice("no credentials yet: created a root token in \(path) (readable by this user only)")
        }
        let app = ServerAPI.application(core, host: host, port: port, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.notice("switchyard-server on http://\(host):\(port), store: \(storeOptions.database.map { _ in "postgres" } ?? "sqlite \(storeOptions.data)/switchyard.sqlite")")
        try await group.run()
        core.stop()
        try await store.close()
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a root token (prints it once). Root tokens create organizations and their admins.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "A name for the audit log.")
    var name: String

    func run() async throws {
        let logger = Logger(label: "switchyard-server")
        let store = try await storeOptions.open(logger: logger)
        let core = ServerCore(store: store, signer: try EnvelopeSigner(keyId: "unused", privateKeyText: ServerFiles.newKeyText()), logger: logger)
        print(try await core.createRootToken(name: name))
        try await store.close()
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a new Ed25519 signing key (base64) and print its public key.")

    @Argument(help: "Where to write the private key (mode 0600).")
    var path: String

    func run() throws {
        let text = ServerFiles.newKeyText()
        try ServerFiles.writePrivate(path: path, text: text + "\n")
        let signer = try EnvelopeSigner(keyId: "new", privateKeyText: text)
        print(SigningKeyText.base64(signer.publicKey))
    }
}
