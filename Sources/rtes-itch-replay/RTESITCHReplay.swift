import ArgumentParser
import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeFeed
import ExchangeReplay
import ExchangeTools
import ExchangeWire
import Foundation

/// Set by SIGINT and SIGTERM: the replay stops at the next message and logs out.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

/// Replays a TotalView-ITCH 5.0 file into a running exchange (docs/REPLAY.md).
@main
struct RTESITCHReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-itch-replay",
        abstract: "Replay a Nasdaq TotalView-ITCH 5.0 file's order flow into a running RTES exchange over OUCH.",
        discussion: """
            FILE is a TotalView-ITCH 5.0 file in Nasdaq's published format (each message after \
            a 2-byte big-endian length), plain or gzip-compressed: one of Nasdaq's sample files, or \
            a capture of RTES's own feed (--capture). The chosen symbols' adds (A, F), executions \
            (E, C), cancels (X), deletes (D) and replaces (U) go into the exchange as orders of one \
            participant (the account REPLAY of the development keys file); every other message type \
            is read and skipped. The book at the replay's start (--start) is built from the file's \
            earlier messages and entered first, in the order the file added it.

            When users' orders take replayed shares, the file's later executions and cancels of \
            that order are paid from them first: no share is taken twice (docs/REPLAY.md).

            The password comes from --password-file FILE (lines USERNAME:PASSWORD), else the \
            environment variable RTES_REPLAY_PASSWORD, else a prompt; never the command line.

            --capture FILE writes the exchange's own feed as an ITCH file instead (for --seconds, \
            gzip when FILE ends in .gz); --parse-only reads FILE and reports the parse rate.

            Exit status: 0 done; 1 the exchange could not be reached or the session failed; 2 the \
            file is malformed or holds more open orders than --max-orders; 64 bad command line, \
            configuration or password.
            """,
        version: RTESVersion.current)

    @Argument(help: "The exchange configuration (JSON), e.g. configs/config.dev.json.")
    var config: String

    @Argument(help: "The ITCH 5.0 file (plain or .gz).")
    var file: String

    @Option(help: "Symbols to replay, comma-separated (default: every symbol the exchange lists).")
    var symbols: String?

    @Option(help: "Replay speed: 1 real time, N N times faster, max as fast as the session takes it.")
    var speed: String = "1"

    @Option(help: ArgumentHelp("File time to start at; earlier messages only build the starting book.", valueName: "HH:MM:SS"))
    var start: String?

    @Option(help: ArgumentHelp("File time to stop at (default: the end of the file).", valueName: "HH:MM:SS"))
    var stop: String?

    @Option(help: "The replay participant's account.")
    var account: String = "REPLAY"

    @Option(name: .customLong("password-file"), help: ArgumentHelp("Lines USERNAME:PASSWORD.", valueName: "file"))
    var passwordFile: String?

    @Option(name: .customLong("max-orders"), help: "The most orders of the chosen symbols open at once in the file (memory bound).")
    var maxOrders: Int = 1_000_000

    @Option(name: .customLong("token-prefix"), help: "1 to 5 letters or digits that begin the replay's order tokens (default: R and the time of day).")
    var tokenPrefix: String?

    @Option(name: .customLong("report-seconds"), help: "Seconds between progress lines (0: none).")
    var reportSeconds: Double = 5

    @Flag(name: .customLong("parse-only"), help: "Only read FILE and report messages per type and the parse rate.")
    var parseOnly = false

    @Flag(help: "Write the exchange's feed to FILE instead of replaying (.gz: compressed).")
    var capture = false

    @Option(help: "With --capture: seconds to capture.")
    var seconds: Double = 10

    func validate() throws {
        if speed != "max", Double(speed).map({ !($0 > 0 && $0.isFinite) }) ?? true {
            throw ValidationError("--speed \(speed): a number above 0 (1 real time, 10 ten times faster) or max")
        }
        if let start, Self.fileTime(start) == nil { throw ValidationError("--start \(start): HH:MM:SS (file time, e.g. 09:30:00)") }
        if let stop, Self.fileTime(stop) == nil { throw ValidationError("--stop \(stop): HH:MM:SS") }
        if maxOrders < 1 { throw ValidationError("--max-orders \(maxOrders): 1 or more") }
        if let p = tokenPrefix, p.isEmpty || p.count > 5 || !p.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            throw ValidationError("--token-prefix \"\(p)\": 1 to 5 ASCII letters or digits")
        }
        if seconds <= 0 || !seconds.isFinite { throw ValidationError("--seconds \(seconds): above 0") }
    }

    static func fileTime(_ text: String) -> UInt64? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { UInt64($0) }
        guard parts.count == 3, let h = parts[0], let m = parts[1], let s = parts[2], h < 24, m < 60, s < 60 else { return nil }
        return ((h * 60 + m) * 60 + s) * 1_000_000_000
    }

    func run() throws {
        if parseOnly { return parse() }
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, host: .current())
        } catch {
            Self.fail("\(config) cannot be used:\n\(error)", status: 64)
        }
        let c = loaded.configuration
        if capture { return captureFeed(c) }
        let listed = c.symbols.map(\.symbol)
        var chosen = listed
        if let symbols {
            chosen = []
            for name in symbols.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
                guard let s = Symbol(name), listed.contains(s) else {
                    Self.fail("--symbols: \(name) is not one of the exchange's symbols (\(listed.map(\.description).joined(separator: ", ")))", status: 64)
                }
                chosen.append(s)
            }
        }
        let password: String
        do throws(PasswordError) {
            password = try PasswordLookup.forProcess(file: passwordFile, variable: "RTES_REPLAY_PASSWORD").password(for: account)
        } catch {
            Self.fail(error.description, status: 64)
        }
        let reader: ITCHFileReader
        do throws(ITCHFileError) { reader = try ITCHFileReader(path: file) } catch { Self.fail(error.description, status: 64) }
        let host = c.exchange.bindAddress.rawValue == 0 ? "127.0.0.1" : "\(c.exchange.bindAddress)"
        let client: OrderEntryClient
        do {
            client = try OrderEntryClient.connect(host: host, port: Int(c.exchange.tcpPort), username: account, password: password)
        } catch ClientError.loginRejected(let reason, let debug) {
            Self.fail("login as \(account) rejected: \(reason)\(debug.map { " (\($0))" } ?? "")", status: 64)
        } catch {
            Self.fail("cannot reach the gateway at \(host):\(c.exchange.tcpPort): \(error)", status: 1)
        }
        var options = ITCHReplay.Options(speed: speed == "max" ? nil : Double(speed), start: start.flatMap(Self.fileTime),
                                         stop: stop.flatMap(Self.fileTime))
        options.maxOrders = maxOrders
        options.tokenPrefix = tokenPrefix ?? "R" + ToolClock.dayPrefix()
        let replay = ITCHReplay(reader: reader, client: client, symbols: chosen, options: options)
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        Self.say("rtes-itch-replay: \(file) → \(host):\(c.exchange.tcpPort) as \(account), symbols \(chosen.map(\.description).joined(separator: ",")), "
            + "speed \(speed)\(start.map { ", start \($0)" } ?? "")")
        let began = ToolClock.monotonic()
        let reportEvery = reportSeconds > 0 ? UInt64(reportSeconds * 1e9) : nil
        var nextReport = reportEvery.map { began + $0 } ?? .max
        do throws(ReplayError) {
            let opening = try replay.preload()
            if options.start != nil { Self.say("starting book: \(opening) orders entered") }
            try replay.run(clock: ToolClock.monotonic, shouldStop: {
                let now = ToolClock.monotonic()
                if let every = reportEvery, now >= nextReport {
                    report(replay, since: began)
                    nextReport = now + every
                }
                return stopRequested != 0
            })
            _ = try replay.settle(clock: ToolClock.monotonic, timeout: 5_000_000_000)
        } catch {
            report(replay, since: began)
            client.close()
            switch error {
            case .session: Self.fail(error.description, status: 1)
            default: Self.fail(error.description, status: 2)
            }
        }
        report(replay, since: began)
        _ = try? client.logout(timeout: .seconds(1))
        client.close()
    }

    func report(_ replay: ITCHReplay, since: UInt64) {
        let c = replay.book.counters
        let seconds = Double(ToolClock.monotonic() - since) / 1e9
        let rate = seconds > 0 ? Double(replay.messagesRead) / seconds : 0
        let reasons = c.rejectReasons.sorted { $0.key < $1.key }.map { "\(Character(UnicodeScalar($0.key)))×\($0.value)" }.joined(separator: " ")
        Self.say("read \(replay.messagesRead) messages (\(Int(rate))/s), file time \(Self.clock(replay.fileTime)); replayed adds \(c.adds), "
            + "executions \(c.executions), cancels \(c.cancels), deletes \(c.deletes), replaces \(c.replaces); sent \(replay.messagesSent) "
            + "(enter \(c.entersSent), cancel \(c.cancelsSent)); accepted \(c.accepted), rejected \(c.rejected)\(reasons.isEmpty ? "" : " (\(reasons))"); "
            + "users took \(c.sharesTakenOnExchange) shares, \(c.sharesAbsorbed) absorbed; open orders \(replay.book.orders.count)")
    }

    func parse() {
        let reader: ITCHFileReader
        do throws(ITCHFileError) { reader = try ITCHFileReader(path: file) } catch { Self.fail(error.description, status: 64) }
        var counts = [UInt64](repeating: 0, count: 256)
        var flow: UInt64 = 0
        let began = ToolClock.monotonic()
        do throws(ITCHFileError) {
            while let m = try reader.next() {
                counts[Int(m[0])] += 1
                if case .ignored = ReplayEvent.decode(m) {} else { flow += 1 }
            }
        } catch {
            Self.fail(error.description, status: 2)
        }
        let seconds = Double(ToolClock.monotonic() - began) / 1e9
        let types = ITCHFileFormat.types.filter { counts[Int($0)] > 0 }.map { "\(Character(UnicodeScalar($0)))=\(counts[Int($0)])" }
        Self.say("\(file): \(reader.messages) messages (\(reader.compressed ? "gzip" : "plain"), \(reader.offset) bytes), \(flow) order flow; "
            + types.joined(separator: " "))
        Self.say(String(format: "parsed in %.3f s: %.0f messages/s", seconds, Double(reader.messages) / max(seconds, 1e-9)))
    }

    func captureFeed(_ c: ExchangeConfiguration) {
        let writer: ITCHFileWriter
        do throws(ITCHFileError) { writer = try ITCHFileWriter(path: file, gzip: file.hasSuffix(".gz")) } catch { Self.fail(error.description, status: 64) }
        let feed: FeedClient
        do {
            feed = try FeedClient(following: c)
        } catch {
            Self.fail("cannot join \(c.exchange.udpMulticastGroup):\(c.exchange.udpPort): \(error)", status: 1)
        }
        feed.handler.recording = true
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        let end = ToolClock.monotonic() + UInt64(seconds * 1e9)
        var written = 0
        while stopRequested == 0 && ToolClock.monotonic() < end {
            feed.poll(timeoutMilliseconds: 10)
            for m in feed.handler.takeRecorded() {
                do throws(ITCHFileError) { try writer.write(m) } catch { Self.fail(error.description, status: 1) }
                written += 1
            }
        }
        do throws(ITCHFileError) { try writer.close() } catch { Self.fail(error.description, status: 1) }
        Self.say("captured \(written) messages into \(file) (gaps \(feed.handler.counters.gaps))")
    }

    static func clock(_ t: UInt64) -> String {
        let s = t / 1_000_000_000
        return String(format: "%02d:%02d:%02d.%03d", Int(s / 3600), Int(s / 60 % 60), Int(s % 60), Int(t / 1_000_000 % 1000))
    }



    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("rtes-itch-replay: \(message)\n".utf8))
        Foundation.exit(status)
    }
}
