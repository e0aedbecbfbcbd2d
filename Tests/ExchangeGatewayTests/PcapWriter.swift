import ExchangeTestRig
import Foundation

/// Writes TCP conversations as a classic pcap file (Ethernet, IPv4, TCP), one segment per
/// SoupBinTCP packet, with a three-way handshake and sequence and acknowledgement numbers
/// kept per direction, so that tshark sees well-formed streams.
///
/// (text2pcap 4.0 can put a dummy TCP header on each packet, but with `-D` it does not
/// advance the sequence number per direction: a second segment from the same side repeats
/// the first one's, and tshark's TCP analysis and reassembly then see retransmissions.)
struct PcapWriter {
    private(set) var data = Data()
    private var microseconds: UInt64 = 1_000_000

    init() {
        // Global header: magic, version 2.4, zone, sigfigs, snaplen, link type 1 (Ethernet).
        append32(0xA1B2_C3D4)
        append16(2)
        append16(4)
        append32(0)
        append32(0)
        append32(262_144)
        append32(1)
    }

    /// One conversation between 127.0.0.1:`clientPort` and 127.0.0.2:`serverPort`: the
    /// transcript's packets in order, each direction's bytes in their own segments.
    mutating func conversation(clientPort: UInt16, serverPort: UInt16, _ transcript: [(toServer: Bool, bytes: [UInt8])]) {
        var clientSequence: UInt32 = 1_000
        var serverSequence: UInt32 = 50_000
        let syn: UInt8 = 0x02, ack: UInt8 = 0x10, push: UInt8 = 0x08
        segment(toServer: true, clientPort, serverPort, sequence: clientSequence, acknowledgement: 0, flags: syn, [])
        clientSequence &+= 1
        segment(toServer: false, clientPort, serverPort, sequence: serverSequence, acknowledgement: clientSequence, flags: syn | ack, [])
        serverSequence &+= 1
        segment(toServer: true, clientPort, serverPort, sequence: clientSequence, acknowledgement: serverSequence, flags: ack, [])
        for (toServer, bytes) in transcript {
            if toServer {
                segment(toServer: true, clientPort, serverPort, sequence: clientSequence, acknowledgement: serverSequence,
                        flags: ack | push, bytes)
                clientSequence &+= UInt32(bytes.count)
            } else {
                segment(toServer: false, clientPort, serverPort, sequence: serverSequence, acknowledgement: clientSequence,
                        flags: ack | push, bytes)
                serverSequence &+= UInt32(bytes.count)
            }
        }
    }

    private mutating func segment(toServer: Bool, _ clientPort: UInt16, _ serverPort: UInt16, sequence: UInt32,
                                  acknowledgement: UInt32, flags: UInt8, _ payload: [UInt8]) {
        microseconds += 100
        let length = 14 + 20 + 20 + payload.count
        append32(UInt32(microseconds / 1_000_000))
        append32(UInt32(microseconds % 1_000_000))
        append32(UInt32(length))
        append32(UInt32(length))
        // Ethernet: destination, source, IPv4.
        data.append(contentsOf: [0, 0, 0, 0, 0, toServer ? 2 : 1, 0, 0, 0, 0, 0, toServer ? 1 : 2, 0x08, 0x00])
        // IPv4 with its header checksum.
        var ip: [UInt8] = [0x45, 0, UInt8((20 + 20 + payload.count) >> 8), UInt8((20 + 20 + payload.count) & 0xFF),
                           0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, toServer ? 1 : 2, 127, 0, 0, toServer ? 2 : 1]
        let sum = checksum(ip)
        ip[10] = UInt8(sum >> 8)
        ip[11] = UInt8(sum & 0xFF)
        data.append(contentsOf: ip)
        // TCP with its checksum over the pseudo-header.
        let (source, destination) = toServer ? (clientPort, serverPort) : (serverPort, clientPort)
        var tcp: [UInt8] = [UInt8(source >> 8), UInt8(source & 0xFF), UInt8(destination >> 8), UInt8(destination & 0xFF)]
        tcp += bigEndian(sequence) + bigEndian(acknowledgement) + [0x50, flags, 0xFF, 0xFF, 0, 0, 0, 0]
        let pseudo: [UInt8] = Array(ip[12..<20]) + [0, 6, UInt8((20 + payload.count) >> 8), UInt8((20 + payload.count) & 0xFF)]
        let tcpSum = checksum(pseudo + tcp + payload)
        tcp[16] = UInt8(tcpSum >> 8)
        tcp[17] = UInt8(tcpSum & 0xFF)
        data.append(contentsOf: tcp)
        data.append(contentsOf: payload)
    }

    private func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    private mutating func append32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    private mutating func append16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
}
