/// A JSON object with its members in document order. Duplicate keys are kept (the parser
/// does not reject them) so that validation can report each one with its position; lookups
/// see the last occurrence, as most JSON readers do.
struct JSONObject: Sendable, Equatable {
    struct Member: Sendable, Equatable {
        var key: String
        var keyLocation: SourceLocation
        var value: JSONValue
    }

    var members: [Member]

    init(_ members: [Member] = []) {
        self.members = members
    }

    /// The value of the last member named `key`.
    subscript(key: String) -> JSONValue? {
        members.last(where: { $0.key == key })?.value
    }

    /// Every member whose key already appeared earlier, with the first occurrence.
    var duplicates: [(first: Member, duplicate: Member)] {
        var firstByKey: [String: Member] = [:]
        var found: [(first: Member, duplicate: Member)] = []
        for member in members {
            if let first = firstByKey[member.key] {
                found.append((first, member))
            } else {
                firstByKey[member.key] = member
            }
        }
        return found
    }

    /// Replaces the value of the last member named `key`, or appends a member.
    mutating func set(_ key: String, to value: JSONValue) {
        if let index = members.lastIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append(Member(key: key, keyLocation: value.location, value: value))
        }
    }

    /// Sets the value at a dotted path of keys, creating missing objects on the way.
    /// Returns the path prefix that is present but not an object, if any (nothing is set then).
    mutating func set(path: ArraySlice<String>, to value: JSONValue) -> [String]? {
        guard let key = path.first else { return nil }
        if path.count == 1 {
            set(key, to: value)
            return nil
        }
        var child: JSONObject
        var childLocation = value.location
        if let existing = self[key] {
            guard let object = existing.object else { return [key] }
            child = object
            childLocation = existing.location
        } else {
            child = JSONObject()
        }
        if let blocked = child.set(path: path.dropFirst(), to: value) { return [key] + blocked }
        set(key, to: JSONValue(.object(child), at: childLocation))
        return nil
    }
}
