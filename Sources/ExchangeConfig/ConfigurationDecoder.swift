import ExchangeCore

/// Turns a JSON tree (file plus environment overrides) into an `ExchangeConfiguration`,
/// recording every problem instead of stopping at the first.
struct ConfigurationDecoder {
    /// A position in the document: the path shown to people and the schema path
    /// (`symbols[2].tick_size` is `symbols[].tick_size` in the schema).
    struct Scope {
        var path: String
        var schemaPath: String

        static let root = Scope(path: "", schemaPath: "")

        func member(_ key: String) -> Scope {
            Scope(path: ConfigurationPath.member(path, key), schemaPath: schemaPath.isEmpty ? key : schemaPath + "." + key)
        }

        func element(_ index: Int) -> Scope {
            Scope(path: ConfigurationPath.element(path, index), schemaPath: schemaPath + "[]")
        }
    }

    let host: HostFacts
    private(set) var issues: [ConfigurationIssue] = []
    private(set) var warnings: [ConfigurationIssue] = []
    /// Schema paths the decoder looked up (tests check that this covers the schema).
    private(set) var consultedPaths: Set<String> = []
    /// Paths that have an issue, so that cross-field checks skip them.
    private var invalidPaths: Set<String> = []
    /// Where each setting that was present came from.
    private var locations: [String: SourceLocation] = [:]
    /// Typo suggestions cost a little; hostile input with thousands of keys gets none.
    private var suggestionBudget = 100

    init(host: HostFacts) {
        self.host = host
    }

    /// The configuration, or nil when there are issues.
    mutating func decode(_ root: JSONValue) -> ExchangeConfiguration? {
        guard let object = root.object else {
            fail("", root, "the configuration must be a JSON object such as {\"symbols\": [...]}; found \(root.summary)")
            return nil
        }
        checkKeys(of: object, in: .root)
        let exchange = decodeExchange(section("exchange", of: object))
        let symbols = decodeSymbols(in: object, at: root.location)
        let risk = decodeRisk(section("risk", of: object))
        let performance = decodePerformance(section("performance", of: object))
        let gateway = decodeGateway(section("gateway", of: object))
        let marketData = decodeMarketData(section("market_data", of: object))
        let admin = decodeAdmin(section("admin", of: object))
        let auth = decodeAuth(section("auth", of: object))
        let durability = decodeDurability(section("durability", of: object))
        let leadership = decodeLeadership(section("leadership", of: object))
        let fix = decodeFIX(section("fix", of: object))
        let replication = decodeReplication(section("replication", of: object))
        let tradingDay = decodeTradingDay(section("trading_day", of: object))
        let luld = decodeLULD(section("luld", of: object))
        let emergency = decodeEmergency(section("emergency", of: object))
        checkReplication(durability, replication)
        checkPorts(exchange, marketData, fix, replication: durability.replication != .none && replication.role == .primary ? replication : nil)
        checkAddresses(exchange, marketData)
        checkCores(performance)
        if let symbols { checkInstruments(symbols, risk, performance) }
        guard issues.isEmpty, let symbols else { return nil }
        var configuration = ExchangeConfiguration(
            exchange: exchange, symbols: symbols, risk: risk, performance: performance, gateway: gateway, marketData: marketData,
            admin: admin, auth: auth, durability: durability, leadership: leadership, fix: fix, replication: replication,
            tradingDay: tradingDay, luld: luld)
        configuration.emergency = emergency
        // A safety net: validation above should already have caught everything the engine checks.
        for problem in configuration.engineConfiguration().problems() {
            issues.append(ConfigurationIssue(path: "", location: nil, message: "the matching engine rejects this configuration: \(problem)"))
        }
        return issues.isEmpty ? configuration : nil
    }

    // MARK: Sections

    private mutating func decodeExchange(_ object: JSONObject?) -> ExchangeSettings {
        var settings = ExchangeSettings()
        let scope = Scope.root.member("exchange")
        guard let object else { return settings }
        text(object, "name", in: scope, allowed: "1 to 64 printable characters") { name in
            (1...64).contains(name.count) && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
        }.assign(to: &settings.name)
        address(object, "bind_address", in: scope,
                allowed: "an IPv4 address such as 127.0.0.1, or 0.0.0.0 for every interface (host names are not accepted)") { _ in true }
            .assign(to: &settings.bindAddress)
        address(object, "udp_multicast_group", in: scope,
                allowed: "an IPv4 multicast address from 224.0.1.0 to 239.255.255.255, such as 239.0.0.1 "
                    + "(224.0.0.0–224.0.0.255 is reserved for routing protocols on the local link)") { $0.isMulticast && $0.rawValue >> 8 != 0xE0_0000 }
            .assign(to: &settings.udpMulticastGroup)
        for (key, keyPath) in [("tcp_port", \ExchangeSettings.tcpPort), ("udp_port", \.udpPort), ("metrics_port", \.metricsPort)] {
            wholeNumber(object, key, in: scope, 1...65_535).map { UInt16($0) }.assign(to: &settings[keyPath: keyPath])
        }
        text(object, "counters_group", in: scope,
             allowed: "a group name of at most 32 letters, digits, '_', '-' or '.', not starting with '-', or \"\" for none") { name in
            name.utf8.count <= 32 && !name.hasPrefix("-") && name.utf8.allSatisfy {
                ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E
            }
        }.assign(to: &settings.countersGroup)
        text(object, "shard", in: scope,
             allowed: "a shard name of the shard map, 1 to 32 characters of a-z, 0-9, '-' and '_', or \"\" for none") {
            $0.isEmpty || ShardMap.isValidName($0)
        }.assign(to: &settings.shard)
        text(object, "shard_map", in: scope, allowed: "the path of the shard map file, at most 4096 bytes, or \"\" for none") {
            $0.utf8.count <= 4_096 && !$0.utf8.contains(0)
        }.assign(to: &settings.shardMap)
        if settings.shard.isEmpty != settings.shardMap.isEmpty, !invalidPaths.contains("exchange.shard"), !invalidPaths.contains("exchange.shard_map") {
            let (given, missing) = settings.shard.isEmpty ? ("exchange.shard_map", "exchange.shard") : ("exchange.shard", "exchange.shard_map")
            issue(given, locations[given], "is set but \(missing) is not: a sharded exchange needs both its shard's name and the shard map")
        }
        return settings
    }

    private mutating func decodeSymbols(in root: JSONObject, at rootLocation: SourceLocation) -> [InstrumentSpec]? {
        let scope = Scope.root.member("symbols")
        consultedPaths.insert(scope.schemaPath)
        let example = #"[{"symbol": "AAPL", "reference_price": 150.00}]"#
        guard let value = root["symbols"] else {
            issue(scope.path, rootLocation, "is required: list at least one instrument, e.g. \"symbols\": \(example)")
            return nil
        }
        guard case .array(let elements) = value.kind else {
            fail(scope.path, value, "must be a non-empty array of instruments such as \(example); found \(value.summary)")
            return nil
        }
        if elements.isEmpty {
            fail(scope.path, value, "must list at least one instrument, such as \(example); found an empty array")
            return nil
        }
        if elements.count > Int(InstrumentIndex.max) {
            fail(scope.path, value, "must list at most \(InstrumentIndex.max) instruments; found \(elements.count)")
        }
        var specs: [InstrumentSpec] = []
        var firstIndexOfSymbol: [Symbol: Int] = [:]
        for (index, element) in elements.enumerated() {
            guard let spec = decodeInstrument(element, in: scope.element(index)) else { continue }
            if let first = firstIndexOfSymbol[spec.symbol] {
                let path = scope.element(index).member("symbol").path
                issue(path, locations[path], "\(spec.symbol) is already listed as symbols[\(first)]; symbols must be unique")
                continue
            }
            firstIndexOfSymbol[spec.symbol] = index
            specs.append(spec)
        }
        return specs.count == elements.count ? specs : nil
    }

    private mutating func decodeInstrument(_ element: JSONValue, in scope: Scope) -> InstrumentSpec? {
        guard let object = element.object else {
            fail(scope.path, element, #"must be an object such as {"symbol": "AAPL", "reference_price": 150.00}; found "# + element.summary)
            return nil
        }
        checkKeys(of: object, in: scope)
        let symbolText = text(object, "symbol", in: scope, allowed: "1 to 8 characters, each an upper-case letter A–Z, a digit or '.'") { text in
            (1...8).contains(text.utf8.count)
                && text.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }
        }
        let tickSize = fixedPoint(object, "tick_size", in: scope, decimals: 4, 1...UInt64(UInt32.max),
                                  allowed: "a price in dollars greater than 0 and at most 429496.7295, with at most 4 decimals")
        let lotSize = wholeNumber(object, "lot_size", in: scope, 1...UInt64(UInt32.max))
        let collar = fixedPoint(object, "price_collar_pct", in: scope, decimals: 2, 1...9_999,
                                allowed: "a percentage greater than 0 and below 100, with at most 2 decimals (10 means 10 %)")
        let referencePrice = fixedPoint(object, "reference_price", in: scope, decimals: 4, 1...UInt64(UInt32.max) - 1,
                                        allowed: "a price in dollars greater than 0 and below 429496.7295, with at most 4 decimals")
        for key in ConfigurationSchema.requiredSymbolKeys where object[key] == nil {
            let field = scope.member(key)
            let meaning = ConfigurationSchema.fields.first { $0.path == field.schemaPath }?.meaning ?? key
            issue(field.path, element.location, "is required and missing: \(meaning)")
        }
        guard case .valid(let symbolName) = symbolText, let symbol = Symbol(symbolName),
              let tick = tickSize.or(100), let lot = lotSize.or(1), let basisPoints = collar.or(1_000),
              case .valid(let reference) = referencePrice
        else { return nil }
        if reference % tick != 0 {
            let path = scope.member("reference_price").path
            issue(path, locations[path], "must be a multiple of tick_size \(formatFixedPoint(tick, decimals: 4)); found \(formatFixedPoint(reference, decimals: 4))")
            return nil
        }
        return InstrumentSpec(symbol: symbol, tickSize: Price(tick), lotSize: Shares(lot),
                              collarBasisPoints: UInt32(basisPoints), referencePrice: Price(reference))
    }

    private mutating func decodeRisk(_ object: JSONObject?) -> RiskSettings {
        var settings = RiskSettings()
        let scope = Scope.root.member("risk")
        guard let object else { return settings }
        wholeNumber(object, "max_order_size", in: scope, 1...UInt64(UInt32.max))
            .map { Shares($0) }.assign(to: &settings.maxOrderSize)
        fixedPoint(object, "max_notional_per_client", in: scope, decimals: 4, 1...UInt64.max,
                   allowed: "a dollar amount greater than 0 and at most 1844674407370955.1615, with at most 4 decimals")
            .assign(to: &settings.maxNotionalPerClient)
        wholeNumber(object, "max_orders_per_second", in: scope, 1...UInt64(UInt32.max))
            .map { UInt32($0) }.assign(to: &settings.maxOrdersPerSecond)
        boolean(object, "price_collar_enabled", in: scope).assign(to: &settings.priceCollarEnabled)
        choice(object, "self_trade_prevention", in: scope, RiskSettings.selfTradePreventionNames)
            .assign(to: &settings.selfTradePrevention)
        return settings
    }

    private mutating func decodePerformance(_ object: JSONObject?) -> PerformanceSettings {
        var settings = PerformanceSettings()
        let scope = Scope.root.member("performance")
        guard let object else { return settings }
        wholeNumber(object, "order_pool_size", in: scope, 1...2_147_483_646)
            .map { Int($0) }.assign(to: &settings.orderPoolSize)
        wholeNumber(object, "queue_capacity", in: scope, 2...1 << 30,
                    allowed: "a power of two from 2 to 1073741824", where: isPowerOfTwo)
            .map { Int($0) }.assign(to: &settings.queueCapacity)
        boolean(object, "enable_cpu_pinning", in: scope).assign(to: &settings.enableCPUPinning)
        boolean(object, "tcp_nodelay", in: scope).assign(to: &settings.tcpNoDelay)
        wholeNumber(object, "udp_buffer_size", in: scope, 65_536...2_147_483_647)
            .map { Int($0) }.assign(to: &settings.udpBufferSize)
        wholeNumber(object, "max_clients", in: scope, 1...16_777_216)
            .map { Int($0) }.assign(to: &settings.maxClients)
        wholeNumber(object, "price_levels", in: scope, 64...262_144,
                    allowed: "a power of two from 64 to 262144", where: isPowerOfTwo)
            .map { Int($0) }.assign(to: &settings.priceLevels)
        choice(object, "threading_mode", in: scope, ThreadingMode.allCases.map { ($0.rawValue, $0) })
            .assign(to: &settings.threadingMode)
        choice(object, "idle_strategy", in: scope, IdleStrategyKind.allCases.map { ($0.rawValue, $0) })
            .assign(to: &settings.idleStrategy)
        choice(object, "hugepages", in: scope, HugePagePolicy.allCases.map { ($0.rawValue, $0) })
            .assign(to: &settings.hugePages)
        boolean(object, "lock_memory", in: scope).assign(to: &settings.lockMemory)
        wholeNumber(object, "realtime_priority", in: scope, 0...99, allowed: "0 (off) or a SCHED_FIFO priority from 1 to 99")
            .map { Int($0) }.assign(to: &settings.realtimePriority)
        if let cores = section("cores", of: object, in: scope) {
            let coresScope = scope.member("cores")
            for agent in CoreAssignment.Agent.allCases {
                wholeNumber(cores, agent.rawValue, in: coresScope, 0...1_023, allowed: "a CPU index from 0 to 1023")
                    .map { Int($0) }.assign(to: &settings.cores[agent])
            }
        }
        return settings
    }

    private mutating func decodeGateway(_ object: JSONObject?) -> GatewaySettings {
        var settings = GatewaySettings()
        let scope = Scope.root.member("gateway")
        guard let object else { return settings }
        text(object, "session_name", in: scope, allowed: "up to 10 characters, each a letter A–Z, a–z or a digit (empty: the trading day's, GA + YYYYMMDD of the UTC day)") { name in
            name.utf8.count <= 10 && name.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
        }.assign(to: &settings.sessionName)
        wholeNumber(object, "max_connections", in: scope, 1...65_536).map { Int($0) }.assign(to: &settings.maxConnections)
        wholeNumber(object, "max_pre_login_connections", in: scope, 0...65_536).map { Int($0) }
            .assign(to: &settings.maxPreLoginConnections)
        wholeNumber(object, "max_pre_login_per_address", in: scope, 0...65_536).map { Int($0) }
            .assign(to: &settings.maxPreLoginPerAddress)
        wholeNumber(object, "session_history_messages", in: scope, 64...16_777_216,
                    allowed: "a power of two from 64 to 16777216", where: isPowerOfTwo)
            .map { Int($0) }.assign(to: &settings.sessionHistoryMessages)
        wholeNumber(object, "send_queue_bytes", in: scope, 4_096...1 << 30).map { Int($0) }.assign(to: &settings.sendQueueBytes)
        wholeNumber(object, "heartbeat_interval_ms", in: scope, 10...60_000).map { Int($0) }
            .assign(to: &settings.heartbeatIntervalMilliseconds)
        wholeNumber(object, "idle_timeout_ms", in: scope, 100...3_600_000).map { Int($0) }
            .assign(to: &settings.idleTimeoutMilliseconds)
        wholeNumber(object, "login_timeout_ms", in: scope, 100...600_000).map { Int($0) }.assign(to: &settings.loginTimeoutMilliseconds)
        wholeNumber(object, "max_messages_per_second", in: scope, 1...100_000_000).map { Int($0) }
            .assign(to: &settings.maxMessagesPerSecond)
        wholeNumber(object, "token_history", in: scope, 1_024...268_435_456).map { Int($0) }.assign(to: &settings.tokenHistory)
        wholeNumber(object, "max_tokens_per_account", in: scope, 0...268_435_456).map { Int($0) }
            .assign(to: &settings.maxTokensPerAccount)
        wholeNumber(object, "recv_buffer_size", in: scope, 512...65_536).map { Int($0) }.assign(to: &settings.receiveBufferSize)
        wholeNumber(object, "recv_buffer_count", in: scope, 16...32_768, allowed: "a power of two from 16 to 32768", where: isPowerOfTwo)
            .map { Int($0) }.assign(to: &settings.receiveBufferCount)
        boolean(object, "sqpoll", in: scope).assign(to: &settings.submissionQueuePolling)
        wholeNumber(object, "shutdown_grace_ms", in: scope, 0...60_000).map { Int($0) }.assign(to: &settings.shutdownGraceMilliseconds)
        choice(object, "tls", in: scope, TLSMode.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.tls)
        let preLoginPath = scope.member("max_pre_login_connections").path
        if settings.maxPreLoginConnections > settings.maxConnections, locations[preLoginPath] != nil,
           !invalidPaths.contains(preLoginPath), !invalidPaths.contains(scope.member("max_connections").path) {
            issue(preLoginPath, locations[preLoginPath],
                  "\(settings.maxPreLoginConnections) is more than max_connections (\(settings.maxConnections)); lower it, or raise max_connections to hold every account's session plus these")
        }
        let tokensPath = scope.member("max_tokens_per_account").path
        if settings.maxTokensPerAccount > settings.tokenHistory, !invalidPaths.contains(tokensPath),
           !invalidPaths.contains(scope.member("token_history").path) {
            issue(tokensPath, locations[tokensPath],
                  "\(settings.maxTokensPerAccount) is more than token_history (\(settings.tokenHistory)), which holds every account's tokens")
        }
        let idlePath = scope.member("idle_timeout_ms").path
        let heartbeatPath = scope.member("heartbeat_interval_ms").path
        if settings.idleTimeoutMilliseconds <= settings.heartbeatIntervalMilliseconds,
           !invalidPaths.contains(idlePath), !invalidPaths.contains(heartbeatPath) {
            let path = locations[idlePath] != nil ? idlePath : heartbeatPath
            issue(path, locations[path],
                  "idle_timeout_ms (\(settings.idleTimeoutMilliseconds)) must be longer than heartbeat_interval_ms (\(settings.heartbeatIntervalMilliseconds)); otherwise clients that heartbeat as often as the server are dropped")
        }
        return settings
    }

    private mutating func decodeMarketData(_ object: JSONObject?) -> MarketDataSettings {
        var settings = MarketDataSettings()
        let scope = Scope.root.member("market_data")
        guard let object else { return settings }
        boolean(object, "enabled", in: scope).assign(to: &settings.enabled)
        address(object, "interface", in: scope,
                allowed: "the IPv4 address of a local interface, such as 127.0.0.1 (host names are not accepted)") { !$0.isMulticast }
            .assign(to: &settings.interface)
        wholeNumber(object, "ttl", in: scope, 0...255).map { Int($0) }.assign(to: &settings.ttl)
        boolean(object, "loopback", in: scope).assign(to: &settings.loopback)
        wholeNumber(object, "max_payload_bytes", in: scope, UInt64(MarketDataSettings.minimumPayloadBytes)...65_507,
                    allowed: "a whole number from \(MarketDataSettings.minimumPayloadBytes) (a cross fill's two 36-byte ITCH messages with their MoldUDP64 headers) to 65507 (the largest UDP payload)")
            .map { Int($0) }.assign(to: &settings.maxPayloadBytes)
        wholeNumber(object, "heartbeat_interval_ms", in: scope, 10...60_000).map { Int($0) }
            .assign(to: &settings.heartbeatIntervalMilliseconds)
        wholeNumber(object, "retransmit_port", in: scope, 1...65_535).map { UInt16($0) }.assign(to: &settings.retransmitPort)
        wholeNumber(object, "retransmit_history_messages", in: scope, 1_024...268_435_456,
                    allowed: "a power of two from 1024 to 268435456", where: isPowerOfTwo)
            .map { Int($0) }.assign(to: &settings.retransmitHistoryMessages)
        wholeNumber(object, "retransmit_max_requests_per_second", in: scope, 1...1_000_000).map { Int($0) }
            .assign(to: &settings.retransmitMaxRequestsPerSecond)
        wholeNumber(object, "snapshot_port", in: scope, 1...65_535).map { UInt16($0) }.assign(to: &settings.snapshotPort)
        wholeNumber(object, "snapshot_max_connections", in: scope, 1...4_096).map { Int($0) }
            .assign(to: &settings.snapshotMaxConnections)
        wholeNumber(object, "snapshot_max_pre_login_connections", in: scope, 1...4_096).map { Int($0) }
            .assign(to: &settings.snapshotMaxPreLoginConnections)
        wholeNumber(object, "snapshot_max_pre_login_per_address", in: scope, 0...4_096).map { Int($0) }
            .assign(to: &settings.snapshotMaxPreLoginPerAddress)
        wholeNumber(object, "snapshot_login_timeout_ms", in: scope, 100...600_000).map { Int($0) }
            .assign(to: &settings.snapshotLoginTimeoutMilliseconds)
        wholeNumber(object, "snapshot_work_per_turn", in: scope, 0...1_048_576,
                    allowed: "0 (no bound), or 512 to 1048576 (at least twice the 256 events a duty cycle publishes, so the snapshot copy keeps up)",
                    where: { $0 == 0 || $0 >= 512 })
            .map { Int($0) }.assign(to: &settings.snapshotWorkPerTurn)
        wholeNumber(object, "snapshot_max_mb_per_second", in: scope, 0...100_000).map { Int($0) }
            .assign(to: &settings.snapshotMaxMegabytesPerSecond)
        choice(object, "snapshot_tls", in: scope, TLSMode.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.snapshotTLS)
        let snapshotPreLoginPath = scope.member("snapshot_max_pre_login_connections").path
        if settings.snapshotMaxPreLoginConnections > settings.snapshotMaxConnections,
           !invalidPaths.contains(snapshotPreLoginPath), !invalidPaths.contains(scope.member("snapshot_max_connections").path) {
            let path = locations[snapshotPreLoginPath] != nil ? snapshotPreLoginPath : scope.member("snapshot_max_connections").path
            issue(path, locations[path],
                  "snapshot_max_pre_login_connections (\(settings.snapshotMaxPreLoginConnections)) is more than snapshot_max_connections (\(settings.snapshotMaxConnections)); lower it or raise snapshot_max_connections, so that logged-in snapshot clients keep slots of their own")
        }
        return settings
    }

    private mutating func decodeAdmin(_ object: JSONObject?) -> AdminSettings {
        var settings = AdminSettings()
        let scope = Scope.root.member("admin")
        guard let object else { return settings }
        wholeNumber(object, "max_connections", in: scope, 1...4_096).map { Int($0) }.assign(to: &settings.maxConnections)
        wholeNumber(object, "idle_timeout_ms", in: scope, 100...600_000).map { Int($0) }
            .assign(to: &settings.idleTimeoutMilliseconds)
        wholeNumber(object, "max_header_bytes", in: scope, 1_024...65_536).map { Int($0) }.assign(to: &settings.maxHeaderBytes)
        wholeNumber(object, "max_uri_bytes", in: scope, 64...65_536).map { Int($0) }.assign(to: &settings.maxURIBytes)
        wholeNumber(object, "max_pipelined_requests", in: scope, 1...1_024).map { Int($0) }
            .assign(to: &settings.maxPipelinedRequests)
        choice(object, "tls", in: scope, TLSMode.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.tls)
        // The web view (docs/WEBVIEW.md).
        boolean(object, "web_view", in: scope).assign(to: &settings.webView)
        wholeNumber(object, "web_view_max_viewers", in: scope, 1...256).map { Int($0) }.assign(to: &settings.webViewMaxViewers)
        wholeNumber(object, "web_view_interval_ms", in: scope, 50...10_000).map { Int($0) }
            .assign(to: &settings.webViewIntervalMilliseconds)
        wholeNumber(object, "web_view_levels", in: scope, 1...50).map { Int($0) }.assign(to: &settings.webViewLevels)
        wholeNumber(object, "web_view_max_buffer_bytes", in: scope, 16_384...16_777_216).map { Int($0) }
            .assign(to: &settings.webViewMaxBufferBytes)
        let viewersPath = scope.member("web_view_max_viewers").path
        if settings.webViewMaxViewers > settings.maxConnections, !invalidPaths.contains(viewersPath),
           !invalidPaths.contains(scope.member("max_connections").path) {
            let path = locations[viewersPath] != nil ? viewersPath : scope.member("max_connections").path
            issue(path, locations[path],
                  "web_view_max_viewers (\(settings.webViewMaxViewers)) is more than max_connections (\(settings.maxConnections)): "
                      + "every view is an admin connection; lower web_view_max_viewers or raise max_connections")
        }
        let uriPath = scope.member("max_uri_bytes").path
        if settings.maxURIBytes >= settings.maxHeaderBytes, !invalidPaths.contains(uriPath),
           !invalidPaths.contains(scope.member("max_header_bytes").path) {
            issue(uriPath, locations[uriPath],
                  "\(settings.maxURIBytes) leaves no room for the rest of the request head: the URI is part of it; "
                      + "lower max_uri_bytes below max_header_bytes (\(settings.maxHeaderBytes)) or raise max_header_bytes")
        }
        return settings
    }

    private mutating func decodeAuth(_ object: JSONObject?) -> AuthSettings {
        var settings = AuthSettings()
        let scope = Scope.root.member("auth")
        guard let object else { return settings }
        boolean(object, "allow_unhashed_accounts", in: scope).assign(to: &settings.allowUnhashedAccounts)
        wholeNumber(object, "max_failed_logins", in: scope, 1...1_000).map { Int($0) }.assign(to: &settings.maxFailedLogins)
        wholeNumber(object, "backoff_ms", in: scope, 0...60_000).map { Int($0) }.assign(to: &settings.backoffMilliseconds)
        wholeNumber(object, "max_backoff_ms", in: scope, 0...600_000).map { Int($0) }.assign(to: &settings.maxBackoffMilliseconds)
        wholeNumber(object, "lockout_ms", in: scope, 1_000...86_400_000).map { Int($0) }.assign(to: &settings.lockoutMilliseconds)
        wholeNumber(object, "tracked_addresses", in: scope, 16...1_048_576).map { Int($0) }.assign(to: &settings.trackedAddresses)
        wholeNumber(object, "max_pending_logins", in: scope, 16...65_536, allowed: "a power of two from 16 to 65536", where: isPowerOfTwo)
            .map { Int($0) }.assign(to: &settings.maxPendingLogins)
        let maxPath = scope.member("max_backoff_ms").path
        let basePath = scope.member("backoff_ms").path
        if settings.maxBackoffMilliseconds < settings.backoffMilliseconds, !invalidPaths.contains(maxPath), !invalidPaths.contains(basePath) {
            let path = locations[maxPath] != nil ? maxPath : basePath
            issue(path, locations[path],
                  "max_backoff_ms (\(settings.maxBackoffMilliseconds)) must be at least backoff_ms (\(settings.backoffMilliseconds))")
        }
        return settings
    }

    private mutating func decodeDurability(_ object: JSONObject?) -> DurabilitySettings {
        var settings = DurabilitySettings()
        let scope = Scope.root.member("durability")
        guard let object else { return settings }
        choice(object, "mode", in: scope, DurabilityMode.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.mode)
        text(object, "directory", in: scope, allowed: "a path of 1 to 4096 bytes without control characters") { path in
            (1...4_096).contains(path.utf8.count) && path.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
        }.assign(to: &settings.directory)
        let block = UInt64(DurabilitySettings.blockBytes)
        wholeNumber(object, "segment_bytes", in: scope, UInt64(DurabilitySettings.minimumSegmentBytes)...(64 << 30),
                    allowed: "a multiple of 4096 from 1048576 (1 MiB) to 68719476736 (64 GiB)", where: { $0 % block == 0 })
            .map { Int($0) }.assign(to: &settings.segmentBytes)
        choice(object, "io", in: scope, JournalIOMode.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.io)
        choice(object, "preallocate", in: scope, JournalPreallocation.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.preallocate)
        choice(object, "sync_method", in: scope, JournalSyncMethod.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.syncMethod)
        wholeNumber(object, "group_commit_max_bytes", in: scope, block...(64 << 20),
                    allowed: "a multiple of 4096 from 4096 to 67108864 (64 MiB)", where: { $0 % block == 0 })
            .map { Int($0) }.assign(to: &settings.groupCommitMaxBytes)
        wholeNumber(object, "ring_capacity", in: scope, 1_024...16_777_216,
                    allowed: "a power of two from 1024 to 16777216", where: isPowerOfTwo)
            .map { Int($0) }.assign(to: &settings.ringCapacity)
        wholeNumber(object, "retain", in: scope, 0...1_000_000).map { Int($0) }.assign(to: &settings.retain)
        wholeNumber(object, "snapshot_interval_seconds", in: scope, 0...86_400).map { Int($0) }
            .assign(to: &settings.snapshotIntervalSeconds)
        wholeNumber(object, "stall_budget_ms", in: scope, 1...600_000).map { Int($0) }
            .assign(to: &settings.stallBudgetMilliseconds)
        wholeNumber(object, "archive_max_requests", in: scope, 1...64).map { Int($0) }
            .assign(to: &settings.archiveMaxRequests)
        wholeNumber(object, "archive_chunk_bytes", in: scope, 4_096...16_777_216).map { Int($0) }
            .assign(to: &settings.archiveChunkBytes)
        choice(object, "replication", in: scope, ReplicationMode.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.replication)
        let groupPath = scope.member("group_commit_max_bytes").path
        let segmentPath = scope.member("segment_bytes").path
        if settings.groupCommitMaxBytes > settings.segmentBytes - DurabilitySettings.blockBytes,
           !invalidPaths.contains(groupPath), !invalidPaths.contains(segmentPath) {
            let path = locations[groupPath] != nil ? groupPath : segmentPath
            issue(path, locations[path],
                  "group_commit_max_bytes (\(settings.groupCommitMaxBytes)) must fit in a segment after its 4096-byte header "
                      + "(segment_bytes \(settings.segmentBytes)); lower group_commit_max_bytes or raise segment_bytes")
        }
        return settings
    }

    private mutating func decodeLeadership(_ object: JSONObject?) -> LeadershipSettings {
        var settings = LeadershipSettings()
        let scope = Scope.root.member("leadership")
        guard let object else { return settings }
        settings.configured = true
        let maximum = LeadershipSettings.maximumEndpoints
        text(object, "endpoints", in: scope,
             allowed: "1 to \(maximum) etcd client endpoints as IPv4 address:port, comma-separated, such as \"127.0.0.1:2379\" "
                + "or \"10.0.0.1:2379,10.0.0.2:2379\" (host names are not accepted)") {
            LeadershipSettings.parseEndpoints($0) != nil
        }.map { LeadershipSettings.parseEndpoints($0) ?? [] }.assign(to: &settings.endpoints)
        text(object, "key_prefix", in: scope,
             allowed: "an etcd key prefix starting with '/' and not ending with one, 2 to 256 printable ASCII characters without spaces, "
                + "such as \"/rtes\"") { LeadershipSettings.isValidKeyPrefix($0) }
            .assign(to: &settings.keyPrefix)
        text(object, "candidate_name", in: scope,
             allowed: "at most 128 printable ASCII characters without spaces (the name or address followers learn), or \"\" for the host name") {
            LeadershipSettings.isValidCandidateName($0)
        }.assign(to: &settings.candidateName)
        let ttl = LeadershipSettings.ttlSecondsRange
        wholeNumber(object, "lease_ttl_seconds", in: scope, UInt64(ttl.lowerBound)...UInt64(ttl.upperBound),
                    allowed: "a whole number of seconds from \(ttl.lowerBound) to \(ttl.upperBound) "
                        + "(etcd raises a shorter lease to its minimum of about 1.5 s)")
            .map { Int($0) }.assign(to: &settings.leaseTTLSeconds)
        return settings
    }

    private mutating func decodeTradingDay(_ object: JSONObject?) -> TradingDaySettings {
        var settings = TradingDaySettings()
        let scope = Scope.root.member("trading_day")
        guard let object else { return settings }
        boolean(object, "enabled", in: scope).assign(to: &settings.enabled)
        text(object, "time_zone", in: scope, allowed: "an IANA time zone name such as \"America/New_York\" or \"UTC\"") {
            TradingDaySettings.isPlausibleZoneName($0)
        }.assign(to: &settings.timeZone)
        let clock = "a time of day as \"HH:MM\" or \"HH:MM:SS\" from 00:00 to 24:00"
        for (key, keyPath) in [("pre_open", \TradingDaySettings.preOpen), ("open", \.open), ("close", \.close), ("end", \.end)] {
            text(object, key, in: scope, allowed: clock) { TradingDaySettings.TimeOfDay($0) != nil }
                .map { TradingDaySettings.TimeOfDay($0)! }.assign(to: &settings[keyPath: keyPath])
        }
        text(object, "start_time", in: scope, allowed: clock + ", or \"\" for pre_open") { $0.isEmpty || TradingDaySettings.TimeOfDay($0) != nil }
            .map { TradingDaySettings.TimeOfDay($0) }.assign(to: &settings.startTime)
        wholeNumber(object, "opening_imbalance_seconds", in: scope, 0...86_400).map { Int($0) }.assign(to: &settings.openingImbalanceSeconds)
        wholeNumber(object, "closing_imbalance_seconds", in: scope, 0...86_400).map { Int($0) }.assign(to: &settings.closingImbalanceSeconds)
        wholeNumber(object, "imbalance_interval_seconds", in: scope, 1...3_600).map { Int($0) }.assign(to: &settings.imbalanceIntervalSeconds)
        wholeNumber(object, "clock_rate", in: scope, 1...UInt64(TradingDaySettings.maximumClockRate),
                    allowed: "a whole number from 1 (the wall clock) to \(TradingDaySettings.maximumClockRate) (exchange seconds per real second)")
            .map { Int($0) }.assign(to: &settings.clockRate)
        text(object, "weekdays", in: scope, allowed: "a comma-separated list of day names, each once, such as \"mon,tue,wed,thu,fri\"") {
            TradingDaySettings.weekdayMask($0) != nil
        }.map { TradingDaySettings.weekdayMask($0)! }.assign(to: &settings.weekdays)
        text(object, "holidays", in: scope, allowed: "a comma-separated list of dates YYYY-MM-DD (from 1970), such as \"2026-12-25,2027-01-01\", or \"\"") {
            TradingDaySettings.holidayDays($0) != nil
        }.map { TradingDaySettings.holidayDays($0)! }.assign(to: &settings.holidays)
        // The phases in order; the imbalance windows inside their phases.
        let names = ["trading_day.pre_open", "trading_day.open", "trading_day.close", "trading_day.end"]
        guard names.allSatisfy({ !invalidPaths.contains($0) }) else { return settings }
        let times = [settings.preOpen, settings.open, settings.close, settings.end]
        for i in 1..<times.count where times[i] <= times[i - 1] {
            let path = locations[names[i]] != nil ? names[i] : names[i - 1]
            issue(path, locations[path], "the day's times must rise: pre_open < open < close < end; "
                    + "\(names[i - 1].dropFirst(12)) is \(times[i - 1]) and \(names[i].dropFirst(12)) is \(times[i])")
            return settings
        }
        if settings.openingImbalanceSeconds > settings.open.seconds - settings.preOpen.seconds {
            issue("trading_day.opening_imbalance_seconds", locations["trading_day.opening_imbalance_seconds"],
                  "is \(settings.openingImbalanceSeconds), longer than pre-open (\(settings.preOpen) to \(settings.open), "
                    + "\(settings.open.seconds - settings.preOpen.seconds) s)")
        }
        if settings.closingImbalanceSeconds > settings.close.seconds - settings.open.seconds {
            issue("trading_day.closing_imbalance_seconds", locations["trading_day.closing_imbalance_seconds"],
                  "is \(settings.closingImbalanceSeconds), longer than continuous trading (\(settings.open) to \(settings.close), "
                    + "\(settings.close.seconds - settings.open.seconds) s)")
        }
        if let start = settings.startTime {
            if settings.clockRate == 1 {
                issue("trading_day.start_time", locations["trading_day.start_time"],
                      "is \(start), but clock_rate is 1: the wall clock says what time it is; set start_time only for an accelerated day (clock_rate > 1), or \"\"")
            } else if start < settings.preOpen || start >= settings.end {
                issue("trading_day.start_time", locations["trading_day.start_time"],
                      "is \(start), outside the day an accelerated clock loops through (pre_open \(settings.preOpen) to before end \(settings.end))")
            }
        }
        return settings
    }

    private mutating func decodeFIX(_ object: JSONObject?) -> FIXSettings {
        var settings = FIXSettings()
        let scope = Scope.root.member("fix")
        guard let object else { return settings }
        wholeNumber(object, "port", in: scope, 0...65_535,
                    allowed: "a TCP port from 1 to 65535 for the FIX 4.4 acceptor, or 0 for none")
            .map { UInt16($0) }.assign(to: &settings.port)
        text(object, "sender_comp_id", in: scope, allowed: "1 to 32 printable ASCII characters without spaces, such as \"RTES\"") {
            FIXSettings.isValidCompID($0)
        }.assign(to: &settings.senderCompID)
        wholeNumber(object, "max_sessions", in: scope, 1...4_096).map { Int($0) }.assign(to: &settings.maxSessions)
        wholeNumber(object, "max_connections", in: scope, 1...4_096).map { Int($0) }.assign(to: &settings.maxConnections)
        wholeNumber(object, "resend_store_messages", in: scope, 16...1_048_576).map { Int($0) }.assign(to: &settings.resendStoreMessages)
        wholeNumber(object, "max_cl_ord_ids", in: scope, 16...9_999_999).map { Int($0) }.assign(to: &settings.maxClOrdIDs)
        choice(object, "tls", in: scope, TLSMode.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.tls)
        wholeNumber(object, "drop_copy_port", in: scope, 0...65_535,
                    allowed: "a TCP port from 1 to 65535 for the FIX drop copy (with fix.port set), or 0 for none")
            .map { UInt16($0) }.assign(to: &settings.dropCopyPort)
        wholeNumber(object, "drop_copy_orders", in: scope, 16...4_194_304).map { Int($0) }.assign(to: &settings.dropCopyOrders)
        if settings.dropCopyPort != 0 && settings.port == 0 && !invalidPaths.contains("fix.port") {
            issue("fix.drop_copy_port", locations["fix.drop_copy_port"],
                  "is \(settings.dropCopyPort), but fix.port is 0: the drop copy is served with the FIX port, so set fix.port too (or drop_copy_port to 0)")
        }
        return settings
    }

    /// `luld`: present means on; tiers must be ordered, every percentage in (0, 100).
    private mutating func decodeLULD(_ object: JSONObject?) -> LULDSettings {
        var settings = LULDSettings()
        let scope = Scope.root.member("luld")
        guard let object else {
            for key in ["tier1_min_price", "tier1_band_pct", "tier2_min_price", "tier2_band_pct", "tier3_band_pct",
                        "tier3_max_band", "limit_state_ms", "pause_ms"] {
                consultedPaths.insert(scope.member(key).schemaPath)
            }
            return settings
        }
        settings.enabled = true
        let price = "a price in dollars greater than 0 and below 429496.7295, with at most 4 decimals"
        let percent = "a percentage greater than 0 and below 100, with at most 2 decimals (5 means 5 %)"
        fixedPoint(object, "tier1_min_price", in: scope, decimals: 4, 1...UInt64(UInt32.max) - 1, allowed: price)
            .map { Price($0) }.assign(to: &settings.rules.highTierPrice)
        fixedPoint(object, "tier1_band_pct", in: scope, decimals: 2, 1...9_999, allowed: percent)
            .map { UInt32($0) }.assign(to: &settings.rules.highBasisPoints)
        fixedPoint(object, "tier2_min_price", in: scope, decimals: 4, 1...UInt64(UInt32.max) - 1, allowed: price)
            .map { Price($0) }.assign(to: &settings.rules.midTierPrice)
        fixedPoint(object, "tier2_band_pct", in: scope, decimals: 2, 1...9_999, allowed: percent)
            .map { UInt32($0) }.assign(to: &settings.rules.midBasisPoints)
        fixedPoint(object, "tier3_band_pct", in: scope, decimals: 2, 1...9_999, allowed: percent)
            .map { UInt32($0) }.assign(to: &settings.rules.lowBasisPoints)
        fixedPoint(object, "tier3_max_band", in: scope, decimals: 4, 0...UInt64(UInt32.max) - 1,
                   allowed: "a dollar amount from 0 (no cap) to 429496.7294, with at most 4 decimals")
            .map { Price($0) }.assign(to: &settings.rules.lowMaximumBand)
        wholeNumber(object, "limit_state_ms", in: scope, 1...3_600_000)
            .map { $0 * 1_000_000 }.assign(to: &settings.rules.limitStateNanoseconds)
        wholeNumber(object, "pause_ms", in: scope, 1...86_400_000)
            .map { $0 * 1_000_000 }.assign(to: &settings.rules.pauseNanoseconds)
        let tier2 = "luld.tier2_min_price"
        if settings.rules.midTierPrice >= settings.rules.highTierPrice,
           !invalidPaths.contains(tier2), !invalidPaths.contains("luld.tier1_min_price") {
            issue(tier2, locations[tier2] ?? locations["luld"],
                  "is \(formatFixedPoint(UInt64(settings.rules.midTierPrice), decimals: 4)), but it must be below luld.tier1_min_price "
                    + "\(formatFixedPoint(UInt64(settings.rules.highTierPrice), decimals: 4)): tier 1 is the high-priced tier (Nasdaq: 3.00 and 0.75)")
        }
        return settings
    }

    private mutating func decodeReplication(_ object: JSONObject?) -> ReplicationSettings {
        var settings = ReplicationSettings()
        let scope = Scope.root.member("replication")
        guard let object else { return settings }
        choice(object, "role", in: scope, ReplicationRole.allCases.map { ($0.rawValue, $0) }).assign(to: &settings.role)
        address(object, "listen_address", in: scope,
                allowed: "an IPv4 address such as 127.0.0.1, or 0.0.0.0 for every interface (host names are not accepted)") { _ in true }
            .assign(to: &settings.listenAddress)
        wholeNumber(object, "listen_port", in: scope, 1...65_535).map { UInt16($0) }.assign(to: &settings.listenPort)
        text(object, "primary", in: scope,
             allowed: "the primary's replication port as IPv4 address:port, such as \"10.0.0.1:9100\" (host names are not accepted)") {
            ReplicationSettings.Endpoint(Substring($0)) != nil
        }.map { ReplicationSettings.Endpoint(Substring($0))! }.assign(to: &settings.primary)
        choice(object, "sync_ack", in: scope, ReplicationAcknowledgement.allCases.map { ($0.rawValue, $0) })
            .assign(to: &settings.syncAcknowledgement)
        choice(object, "on_divergence", in: scope, ReplicationDivergence.allCases.map { ($0.rawValue, $0) })
            .assign(to: &settings.onDivergence)
        wholeNumber(object, "yield_us", in: scope, 0...100_000).map { UInt32($0) }.assign(to: &settings.yieldMicroseconds)
        return settings
    }

    // MARK: Combinations

    /// Replication streams the journal, so it needs one; sync replication holds output, which
    /// only mode sync does; a standby follows a primary only when replication is on.
    private mutating func checkReplication(_ durability: DurabilitySettings, _ replication: ReplicationSettings) {
        let path = "durability.replication"
        if durability.replication != .none, !invalidPaths.contains(path), !invalidPaths.contains("durability.mode") {
            if durability.mode == .none {
                issue(path, locations[path], "is \(durability.replication), but durability.mode is none: replication streams the journal, "
                    + "so set durability.mode to async or sync (or durability.replication to none)")
            } else if durability.replication == .sync && durability.mode != .sync {
                issue(path, locations[path], "is sync, but durability.mode is \(durability.mode): output waits for the standby only where it "
                    + "waits for the disk, so set durability.mode to sync (or durability.replication to async)")
            }
        }
        let rolePath = "replication.role"
        if replication.role == .standby, durability.replication == .none, !invalidPaths.contains(rolePath), !invalidPaths.contains(path) {
            issue(rolePath, locations[rolePath] ?? locations[path],
                  "is standby, but durability.replication is none: a standby follows a primary's journal only when "
                    + "durability.replication is async or sync (set it as the primary's)")
        }
    }

    private mutating func checkPorts(_ exchange: ExchangeSettings, _ marketData: MarketDataSettings, _ fix: FIXSettings,
                                     replication: ReplicationSettings? = nil) {
        var ports = [("exchange.tcp_port", exchange.tcpPort), ("exchange.udp_port", exchange.udpPort),
                     ("exchange.metrics_port", exchange.metricsPort),
                     ("market_data.retransmit_port", marketData.retransmitPort),
                     ("market_data.snapshot_port", marketData.snapshotPort)]
        if fix.enabled { ports.append(("fix.port", fix.port)) }
        if fix.dropCopyEnabled { ports.append(("fix.drop_copy_port", fix.dropCopyPort)) }
        if let replication { ports.append(("replication.listen_port", replication.listenPort)) }
        ports = ports.filter { !invalidPaths.contains($0.0) }
        for (i, later) in ports.enumerated() {
            guard let earlier = ports[..<i].first(where: { $0.1 == later.1 }) else { continue }
            let (path, other) = locations[later.0] != nil || locations[earlier.0] == nil ? (later.0, earlier.0) : (earlier.0, later.0)
            issue(path, locations[path],
                  "\(later.1) is also used by \(other)\(locations[other] == nil ? " (its default)" : ""); every port the exchange listens on must differ")
        }
    }

    /// Addresses a socket binds to must be this host's (`HostFacts.canBind`): the listeners'
    /// `exchange.bind_address` and the multicast feed's `market_data.interface`.
    private mutating func checkAddresses(_ exchange: ExchangeSettings, _ marketData: MarketDataSettings) {
        for (path, address) in [("exchange.bind_address", exchange.bindAddress), ("market_data.interface", marketData.interface)]
        where !invalidPaths.contains(path) && !host.canBind(address) {
            let own = (host.localAddresses ?? []).filter { $0.rawValue >> 24 != 127 }.sorted { $0.rawValue < $1.rawValue }
            let interfaces = own.isEmpty ? "" : "one of its addresses (" + own.map(\.description).joined(separator: ", ") + "), "
            let any = path == "exchange.bind_address" ? "0.0.0.0 for every interface" : "0.0.0.0 to let the routing table choose"
            issue(path, locations[path],
                  "\(address) is not an address of this host, so nothing can be bound to it; use \(interfaces)127.0.0.1 to stay on this host, or \(any)")
        }
    }

    /// Instruments that the risk limits make unusable.
    private mutating func checkInstruments(_ symbols: [InstrumentSpec], _ risk: RiskSettings, _ performance: PerformanceSettings) {
        for (index, spec) in symbols.enumerated() {
            let scope = Scope.root.member("symbols").element(index)
            let lotPath = scope.member("lot_size").path
            if !invalidPaths.contains("risk.max_order_size"), UInt64(spec.lotSize) > UInt64(risk.maxOrderSize) {
                issue(lotPath, locations[lotPath] ?? locations[scope.member("symbol").path],
                      "\(spec.symbol): a lot of \(spec.lotSize) shares is above risk.max_order_size (\(risk.maxOrderSize)), so no order could be accepted; "
                        + "lower lot_size or raise risk.max_order_size")
            }
            if risk.priceCollarEnabled, !invalidPaths.contains("risk.price_collar_enabled"), !invalidPaths.contains("performance.price_levels") {
                checkLadder(spec, scope: scope, priceLevels: performance.priceLevels)
            }
        }
    }

    /// The ladder (`price_levels` ticks centred on the reference price) must hold every price
    /// the collar admits around the reference, or orders the collar lets through could not
    /// rest (`priceOutOfRange`); the engine's own placement decides (`InstrumentSpec+Ladder`).
    private mutating func checkLadder(_ spec: InstrumentSpec, scope: Scope, priceLevels: Int) {
        guard !spec.ladderCoversCollar(priceLevels: priceLevels), let collar = spec.collarTicks else { return }
        let ladder = spec.ladderTicks(priceLevels: priceLevels)
        let tick = UInt64(spec.tickSize)
        func dollars(_ ticks: UInt64) -> String { formatFixedPoint(ticks * tick, decimals: 4) }
        let percent = formatFixedPoint(UInt64(spec.collarBasisPoints), decimals: 2)
        var fixes: [String] = []
        var levels = priceLevels * 2
        while levels <= 262_144 && !spec.ladderCoversCollar(priceLevels: levels) { levels *= 2 }
        if levels <= 262_144 { fixes.append("raise performance.price_levels to \(levels)") }
        var narrower = spec
        var basisPoints = spec.collarBasisPoints
        repeat {
            basisPoints -= 1
            narrower.collarBasisPoints = basisPoints
        } while basisPoints > 0 && !narrower.ladderCoversCollar(priceLevels: priceLevels)
        if basisPoints > 0 { fixes.append("lower price_collar_pct to \(formatFixedPoint(UInt64(basisPoints), decimals: 2))") }
        fixes.append("set risk.price_collar_enabled to false")
        let collarPath = scope.member("price_collar_pct").path
        issue(collarPath, locations[collarPath] ?? locations[scope.member("symbol").path],
              "\(spec.symbol): the collar admits prices \(dollars(collar.lowerBound))–\(dollars(collar.upperBound)) (\(percent) % around \(formatFixedPoint(UInt64(spec.referencePrice), decimals: 4))), "
                + "but the price ladder (performance.price_levels \(priceLevels) ticks of \(formatFixedPoint(tick, decimals: 4))) holds only \(dollars(max(1, ladder.lowerBound)))–\(dollars(ladder.upperBound)), "
                + "so orders the collar accepts could not rest; " + fixes.joined(separator: ", or "))
    }

    private mutating func checkCores(_ performance: PerformanceSettings) {
        let coresPath = "performance.cores"
        guard !invalidPaths.contains("performance.enable_cpu_pinning") else { return }
        guard performance.enableCPUPinning else {
            if let location = locations[coresPath] {
                warnings.append(ConfigurationIssue(
                    path: coresPath, location: location,
                    message: "is ignored because performance.enable_cpu_pinning is false"))
            }
            return
        }
        let count = host.cpuCount
        for agent in CoreAssignment.Agent.allCases {
            let path = coresPath + "." + agent.rawValue
            let cpu = performance.cores[agent]
            guard !invalidPaths.contains(path), cpu >= count else { continue }
            let range = count == 1 ? "only CPU 0" : "CPUs 0–\(count - 1)"
            let origin = locations[path] == nil ? " (the default for \(path))" : ""
            issue(path, locations[path],
                  "CPU \(cpu)\(origin) does not exist on this host, which has \(range); choose an existing CPU or set performance.enable_cpu_pinning to false")
        }
        guard performance.threadingMode == .dedicated, performance.idleStrategy == .busySpin else { return }
        var agentsByCPU: [Int: [CoreAssignment.Agent]] = [:]
        for agent in CoreAssignment.Agent.allCases where !invalidPaths.contains(coresPath + "." + agent.rawValue) {
            agentsByCPU[performance.cores[agent], default: []].append(agent)
        }
        for (cpu, agents) in agentsByCPU.sorted(by: { $0.key < $1.key }) where agents.count > 1 {
            let names = agents.map(\.rawValue)
            let list = names.dropLast().joined(separator: ", ") + " and " + names.last!
            warnings.append(ConfigurationIssue(
                path: coresPath, location: locations[coresPath],
                message: "\(list) busy-spin on the same CPU \(cpu) in dedicated mode; they will compete for it (allowed, e.g. on a 2-CPU machine, but latency suffers)"))
        }
    }

    // MARK: Objects and keys

    /// The object at `key`, or nil when absent (defaults apply) or not an object (an issue).
    private mutating func section(_ key: String, of object: JSONObject, in scope: Scope = .root) -> JSONObject? {
        let child = scope.member(key)
        guard let value = object[key] else { return nil }
        locations[child.path] = value.location
        guard let section = value.object else {
            fail(child.path, value, "must be an object of settings { … }; found \(value.summary)")
            return nil
        }
        checkKeys(of: section, in: child)
        return section
    }

    /// Reports keys the schema does not know. Secret-like keys are left to `DocumentAudit`.
    private mutating func checkKeys(of object: JSONObject, in scope: Scope) {
        let allowed = ConfigurationSchema.childKeys[scope.schemaPath] ?? []
        for member in object.members where !allowed.contains(member.key) {
            if ConfigurationSchema.secretKey(member.key).isSecret { continue }
            var message = "unknown key"
            if suggestionBudget > 0 {
                suggestionBudget -= 1
                if let guess = closestMatch(to: member.key, among: allowed) { message += " (did you mean \(guess)?)" }
            }
            let place = scope.path.isEmpty ? "at the top level" : "in \(scope.path)"
            message += "; allowed keys \(place) are \(allowed.joined(separator: ", "))"
            issue(scope.member(member.key).path, member.keyLocation, message)
        }
    }

    /// The `emergency` section (docs/OPERATIONS.md, "Emergency triggers"): every threshold 0
    /// (off) unless set; an action other than alert for a condition that is off is a warning.
    private mutating func decodeEmergency(_ object: JSONObject?) -> EmergencySettings {
        var settings = EmergencySettings()
        let scope = Scope.root.member("emergency")
        let conditions = ["memory_mb": "memory", "reject_ratio": "reject_ratio", "error_rate_per_second": "error_rate",
                          "journal_lag_records": "journal_lag", "replication_lag_records": "replication_lag"]
        guard let object else {
            for key in ["hold_seconds"] + conditions.keys.sorted() + conditions.values.sorted().map({ $0 + "_action" }) {
                consultedPaths.insert(scope.member(key).schemaPath)
            }
            return settings
        }
        wholeNumber(object, "hold_seconds", in: scope, 0...3_600).map { Int($0) }.assign(to: &settings.holdSeconds)
        wholeNumber(object, "memory_mb", in: scope, 0...16_777_216).assign(to: &settings.memoryMB)
        fixedPoint(object, "reject_ratio", in: scope, decimals: 4, 0...10_000,
                   allowed: "a share from 0 (off) to 1, with at most 4 decimals (0.5 means half of the orders rejected)")
            .assign(to: &settings.rejectRatioTenThousandths)
        wholeNumber(object, "error_rate_per_second", in: scope, 0...1_000_000_000).assign(to: &settings.errorRatePerSecond)
        wholeNumber(object, "journal_lag_records", in: scope, 0...UInt64(UInt32.max)).assign(to: &settings.journalLagRecords)
        wholeNumber(object, "replication_lag_records", in: scope, 0...UInt64(UInt32.max)).assign(to: &settings.replicationLagRecords)
        let actions = EmergencySettings.Action.allCases.map { ($0.rawValue, $0) }
        choice(object, "memory_action", in: scope, actions).assign(to: &settings.memoryAction)
        choice(object, "reject_ratio_action", in: scope, actions).assign(to: &settings.rejectRatioAction)
        choice(object, "error_rate_action", in: scope, actions).assign(to: &settings.errorRateAction)
        choice(object, "journal_lag_action", in: scope, actions).assign(to: &settings.journalLagAction)
        choice(object, "replication_lag_action", in: scope, actions).assign(to: &settings.replicationLagAction)
        let off: [(String, String, Bool, EmergencySettings.Action)] = [
            ("memory_action", "memory_mb", settings.memoryMB == 0, settings.memoryAction),
            ("reject_ratio_action", "reject_ratio", settings.rejectRatioTenThousandths == 0, settings.rejectRatioAction),
            ("error_rate_action", "error_rate_per_second", settings.errorRatePerSecond == 0, settings.errorRateAction),
            ("journal_lag_action", "journal_lag_records", settings.journalLagRecords == 0, settings.journalLagAction),
            ("replication_lag_action", "replication_lag_records", settings.replicationLagRecords == 0, settings.replicationLagAction),
        ]
        for (actionKey, thresholdKey, isOff, action) in off where isOff && action != .alert {
            let path = scope.member(actionKey).path
            guard let location = locations[path], !invalidPaths.contains(scope.member(thresholdKey).path) else { continue }
            warnings.append(ConfigurationIssue(
                path: path, location: location,
                message: "is \(action.rawValue), but emergency.\(thresholdKey) is 0, so that trigger is off and never fires"))
        }
        return settings
    }

    // MARK: Typed fields

    /// Looks `key` up, noting where it came from.
    private mutating func lookup(_ object: JSONObject, _ key: String, in scope: Scope) -> (value: JSONValue, path: String)? {
        let field = scope.member(key)
        consultedPaths.insert(field.schemaPath)
        guard let value = object[key] else { return nil }
        locations[field.path] = value.location
        return (value, field.path)
    }

    private mutating func wholeNumber(
        _ object: JSONObject, _ key: String, in scope: Scope, _ range: ClosedRange<UInt64>,
        allowed: String? = nil, where predicate: (UInt64) -> Bool = { _ in true }
    ) -> FieldValue<UInt64> {
        guard let (value, path) = lookup(object, key, in: scope) else { return .missing }
        let allowed = allowed ?? (range.upperBound == .max
            ? "a whole number of at least \(range.lowerBound)"
            : "a whole number from \(range.lowerBound) to \(range.upperBound)")
        guard case .number(let literal) = value.kind, let number = ExactDecimal(literal: literal) else {
            return fail(path, value, "must be \(allowed); found \(found(value))")
        }
        switch number.scaled(by: 0) {
        case .success(let whole) where range.contains(whole) && predicate(whole):
            return .valid(whole)
        case .success, .failure(.negative):
            return fail(path, value, "must be \(allowed); found \(abbreviated(literal))")
        case .failure(.tooManyDecimals):
            return fail(path, value, "must be \(allowed); found \(abbreviated(literal)), which is not a whole number")
        case .failure(.tooLarge):
            return fail(path, value, "must be \(allowed); found \(abbreviated(literal)), which is far too large")
        }
    }

    /// A decimal number converted exactly to an integer with `decimals` implied decimals.
    private mutating func fixedPoint(
        _ object: JSONObject, _ key: String, in scope: Scope, decimals: Int, _ range: ClosedRange<UInt64>, allowed: String
    ) -> FieldValue<UInt64> {
        guard let (value, path) = lookup(object, key, in: scope) else { return .missing }
        guard case .number(let literal) = value.kind, let number = ExactDecimal(literal: literal) else {
            return fail(path, value, "must be \(allowed); found \(found(value))")
        }
        switch number.scaled(by: decimals) {
        case .success(let units) where range.contains(units):
            return .valid(units)
        case .success, .failure(.negative):
            return fail(path, value, "must be \(allowed); found \(abbreviated(literal))")
        case .failure(.tooManyDecimals(let places)):
            return fail(path, value, "must be \(allowed); found \(abbreviated(literal)), which has \(places) decimals")
        case .failure(.tooLarge):
            return fail(path, value, "must be \(allowed); found \(abbreviated(literal)), which is too large")
        }
    }

    private mutating func boolean(_ object: JSONObject, _ key: String, in scope: Scope) -> FieldValue<Bool> {
        guard let (value, path) = lookup(object, key, in: scope) else { return .missing }
        guard case .bool(let flag) = value.kind else { return fail(path, value, "must be true or false; found \(found(value))") }
        return .valid(flag)
    }

    private mutating func text(
        _ object: JSONObject, _ key: String, in scope: Scope, allowed: String, isValid: (String) -> Bool
    ) -> FieldValue<String> {
        guard let (value, path) = lookup(object, key, in: scope) else { return .missing }
        guard case .string(let text) = value.kind else { return fail(path, value, "must be a string of \(allowed); found \(value.summary)") }
        guard isValid(text) else {
            let hint = text.uppercased() != text && isValid(text.uppercased()) ? " (use upper case)" : ""
            return fail(path, value, "must be \(allowed); found \(quoted(text))\(hint)")
        }
        return .valid(text)
    }

    private mutating func address(
        _ object: JSONObject, _ key: String, in scope: Scope, allowed: String, isValid: (IPv4Address) -> Bool
    ) -> FieldValue<IPv4Address> {
        guard let (value, path) = lookup(object, key, in: scope) else { return .missing }
        guard case .string(let text) = value.kind else { return fail(path, value, "must be a string holding \(allowed); found \(value.summary)") }
        guard let address = IPv4Address(text), isValid(address) else { return fail(path, value, "must be \(allowed); found \(quoted(text))") }
        return .valid(address)
    }

    private mutating func choice<Value>(
        _ object: JSONObject, _ key: String, in scope: Scope, _ options: [(String, Value)]
    ) -> FieldValue<Value> {
        guard let (value, path) = lookup(object, key, in: scope) else { return .missing }
        let names = options.map(\.0)
        let allowed = "one of " + names.map { quoted($0) }.joined(separator: ", ")
        guard case .string(let text) = value.kind else { return fail(path, value, "must be \(allowed); found \(value.summary)") }
        if let match = options.first(where: { $0.0 == text }) { return .valid(match.1) }
        let guess = closestMatch(to: text, among: names).map { " (did you mean \(quoted($0))?)" } ?? ""
        return fail(path, value, "must be \(allowed); found \(quoted(text))\(guess)")
    }

    /// The value as a message shows it, with a hint when a number or boolean was quoted.
    private func found(_ value: JSONValue) -> String {
        if case .string(let text) = value.kind, let inner = try? JSONParser.parse(text, source: .file("")) {
            switch inner.kind {
            case .number, .bool: return "\(value.summary) (write numbers and true/false without quotes)"
            default: break
            }
        }
        return value.summary
    }

    // MARK: Recording issues

    private mutating func issue(_ path: String, _ location: SourceLocation?, _ message: String) {
        invalidPaths.insert(path)
        issues.append(ConfigurationIssue(path: path, location: location, message: message))
    }

    @discardableResult
    private mutating func fail<Value>(_ path: String, _ value: JSONValue, _ message: String) -> FieldValue<Value> {
        issue(path, value.location, message)
        return .invalid
    }

    private mutating func fail(_ path: String, _ value: JSONValue, _ message: String) {
        issue(path, value.location, message)
    }
}

/// For the settings that must be powers of two (ring and table capacities).
private func isPowerOfTwo(_ value: UInt64) -> Bool { value > 0 && value & (value - 1) == 0 }
