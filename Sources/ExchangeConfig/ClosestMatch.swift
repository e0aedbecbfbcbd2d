/// The candidate closest to a misspelling (`max_order_sise` → `max_order_size`), if one is
/// close enough to be a likely typo, or the only candidate that starts with it. Case is ignored.
func closestMatch(to text: String, among candidates: [String]) -> String? {
    let word = Array(text.lowercased().unicodeScalars)
    guard !word.isEmpty, word.count <= 64 else { return nil }
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let other = Array(candidate.lowercased().unicodeScalars)
        let allowed = min(3, max(1, other.count / 4))
        guard abs(other.count - word.count) <= allowed else { continue }
        let distance = editDistance(word, other)
        if distance <= allowed, distance < (best?.distance ?? .max) { best = (candidate, distance) }
    }
    if let best { return best.candidate }
    // A truncated name: `tick` for `tick_size`.
    let prefixed = candidates.filter { word.count >= 3 && $0.lowercased().unicodeScalars.starts(with: word) }
    return prefixed.count == 1 ? prefixed[0] : nil
}

/// Levenshtein distance.
private func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 0..<a.count {
        current[0] = i + 1
        for j in 0..<b.count {
            let substitution = previous[j] + (a[i] == b[j] ? 0 : 1)
            current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
