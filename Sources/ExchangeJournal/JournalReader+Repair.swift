extension JournalReader {
    /// Discards the torn tail of the journal in `directory`: verifies every segment first
    /// (corruption is refused, never "repaired"), then writes zeros from the end of the last
    /// whole record to the end of the damaged bytes, `fdatasync`s, and opens the directory
    /// again to confirm the tail is gone. Returns what it discarded, nil when there was no
    /// torn tail (and then writes nothing).
    @discardableResult
    public static func repairTornTail(directory: String, readBytes: Int = defaultReadBytes) throws(JournalError) -> JournalTornTail? {
        let reader = try open(directory: directory, readBytes: readBytes)
        try reader.verify(readBytes: readBytes)
        guard let torn = reader.tornTail else { return nil }
        do {
            let file = try JournalReaderFile(path: torn.file, writable: true)
            defer { file.close() }
            try file.writeZeros(at: torn.wholeEnd, count: torn.discardedBytes)
            try file.syncData()
        }
        let after = try open(directory: directory, readBytes: readBytes)
        if let left = after.tornTail {
            throw .corrupt(JournalCorruption(file: left.file, offset: left.wholeEnd, sequence: nil,
                                             reason: "a torn tail is still there after zeroing \(torn.discardedBytes) bytes: \(left.reason)"))
        }
        return torn
    }
}
