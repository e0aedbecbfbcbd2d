import CExchangeShim
import ExchangeRuntime
import Glibc
import Testing

/// io_uring as the agents use it. Skipped where the kernel has no io_uring (or forbids it).
@Suite(.enabled(if: IOUringFeatures.probe().ring.isAvailable, "io_uring is not available on this kernel"))
struct IOUringTests {
    @Test func setsUpWithTheBestFlagsTheKernelAccepts() throws {
        let ring = try IOUring(entries: 8)
        let features = IOUringFeatures.probe()
        let deferred = ring.usesDeferredTaskRun
        let description = ring.setupDescription
        if features.deferredTaskRun.isAvailable {
            #expect(deferred)
            #expect(description.contains("DEFER_TASKRUN"))
        }
        #expect(!description.isEmpty)
    }

    @Test func aCompletionIsLaidOutAsTheKernelsCompletionQueueEntry() {
        #expect(MemoryLayout<Completion>.size == MemoryLayout<io_uring_cqe>.size)
        #expect(MemoryLayout<Completion>.stride == MemoryLayout<io_uring_cqe>.stride)
        let tag = CompletionTag(kind: .init(rawValue: 0xAB), index: 0x1234_5678, generation: 0x1FF_FFFF)
        #expect(tag.rawValue == 0xAB_FF_FFFF_1234_5678 && tag.generation == 0xFF_FFFF && tag.index == 0x1234_5678)
        let completion = Completion(tag: tag, result: -105, flags: Completion.flags(more: true, buffer: 7))
        #expect(completion.tag == tag && completion.result == -105 && completion.hasMore && completion.hasBuffer && completion.bufferID == 7)
    }

    @Test func aRingCreatedDisabledIsDrivenByTheThreadThatAdoptsIt() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        // Created here, driven on another thread: the shape of an agent started by the runner.
        let holder = RingHolder(try IOUring(entries: 8, startDisabled: true))
        let (receiver, sender) = (pair[0], pair[1])
        let received = try runOnThread { () throws -> [UInt8] in
            let memory = holder.memory
            try holder.ring.adopt()
            var buffers = try ProvidedBuffers(ring: holder.ring, group: 7, count: 16, size: 256, memory: memory)
            let tag = CompletionTag(kind: .init(rawValue: 9), index: 42, generation: 3)
            let armed = holder.ring.prepareMultishotReceive(fd: receiver, bufferGroup: 7, tag: tag)
            #expect(armed)
            holder.ring.submitAndPoll()
            let message: [UInt8] = Array("hello, exchange".utf8)
            #expect(write(sender, message, message.count) == message.count)
            let batch = UnsafeMutableBufferPointer<Completion>.allocate(capacity: 8)
            defer { batch.deallocate() }
            var bytes: [UInt8] = []
            for _ in 0..<1_000 where bytes.count < message.count {
                holder.ring.submitAndPoll()
                let n = holder.ring.takeCompletions(into: batch)
                if n == 0 { _ = holder.ring.waitForCompletion(milliseconds: 10); continue }
                for completion in batch[..<n] {
                    #expect(completion.tag == tag)
                    #expect(completion.tag.kind.rawValue == 9 && completion.tag.index == 42 && completion.tag.generation == 3)
                    #expect(completion.result > 0)
                    #expect(completion.hasBuffer)
                    #expect(completion.hasMore, "multishot receive stays armed")
                    let id = completion.bufferID
                    bytes += UnsafeRawBufferPointer(start: buffers.buffer(id), count: Int(completion.result))
                    buffers.recycle(id)
                }
                buffers.publishRecycled()
            }
            _ = consume buffers
            return bytes
        }
        #expect(String(decoding: received, as: UTF8.self) == "hello, exchange")
    }
}

/// Carries a ring and buffer memory to another thread.
private final class RingHolder: @unchecked Sendable {
    var ring: IOUring
    let memory = UnsafeMutableRawPointer.allocate(byteCount: 16 * 256, alignment: 64)
    init(_ ring: consuming IOUring) { self.ring = ring }
    deinit { memory.deallocate() }
}

private final class Box: @unchecked Sendable {
    var result: Result<[UInt8], any Error>?
    let body: @Sendable () throws -> [UInt8]
    init(_ body: @escaping @Sendable () throws -> [UInt8]) { self.body = body }
}

/// Runs `body` on a new thread and returns its result.
private func runOnThread(_ body: @escaping @Sendable () throws -> [UInt8]) throws -> [UInt8] {
    let box = Box(body)
    var thread = pthread_t()
    let context = Unmanaged.passRetained(box).toOpaque()
    let rc = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.result = Result { try box.body() }
        return nil
    }, context)
    #expect(rc == 0)
    pthread_join(thread, nil)
    return try box.result!.get()
}
