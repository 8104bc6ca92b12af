/// RFC 8259 text straight into `JSON`, byte by byte. Foundation's `JSONSerialization` parses fast
/// but hands back `Any`, and casting that back into this enum cost three times the parse: it was
/// the largest item in the box's time per Slack request.
struct JSONReader {
    struct Failure: Error {}

    /// Deeper nesting is refused rather than recursed into: a 256 KiB body of `[` must not
    /// exhaust the stack.
    static let maximumDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The one value in `bytes` (surrounding whitespace allowed), or nil if it is not JSON.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSON? {
        var reader = JSONReader(bytes)
        // Malformed JSON is nil for the caller, who answers 400; where it broke does not matter.
        guard let value = try? reader.value() else { return nil }
        reader.skipWhitespace()
        return reader.index == bytes.count ? value : nil
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private mutating func value() throws(Failure) -> JSON {
        skipWhitespace()
        guard let byte = current else { throw Failure() }
        switch byte {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw Failure()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw Failure() }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw Failure() }
        index += count
    }

    private mutating func nested<T>(_ body: (inout JSONReader) throws(Failure) -> T) throws(Failure) -> T {
        depth += 1
        guard depth <= Self.maximumDepth else { throw Failure() }
        defer { depth -= 1 }
        index += 1  // the opening bracket
        return try body(&self)
    }

    private mutating func object() throws(Failure) -> JSON {
        try nested { (reader: inout JSONReader) throws(Failure) -> JSON in
            var members: [String: JSON] = [:]
            reader.skipWhitespace()
            if reader.current == UInt8(ascii: "}") {
                reader.index += 1
                return .object(members)
            }
            while true {
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: "\"") else { throw Failure() }
                let key = try reader.string()
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: ":") else { throw Failure() }
                reader.index += 1
                members[key] = try reader.value()
                reader.skipWhitespace()
                switch reader.current {
                case UInt8(ascii: ","): reader.index += 1
                case UInt8(ascii: "}"):
                    reader.index += 1
                    return .object(members)
                default: throw Failure()
                }
            }
        }
    }

    private mutating func array() throws(Failure) -> JSON {
        try nested { (reader: inout JSONReader) throws(Failure) -> JSON in
            var elements: [JSON] = []
            reader.skipWhitespace()
            if reader.current == UInt8(ascii: "]") {
                reader.index += 1
                return .array(elements)
            }
            while true {
                elements.append(try reader.value())
                reader.skipWhitespace()
                switch reader.current {
                case UInt8(ascii: ","): reader.index += 1
                case UInt8(ascii: "]"):
                    reader.index += 1
                    return .array(elements)
                default: throw Failure()
                }
            }
        }
    }

    /// A string at the opening quote. Unescaped runs are copied as they are; the result must be
    /// valid UTF-8.
    private mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { throw Failure() }
            index += 1
        }
        guard let stop = current else { throw Failure() }
        if stop == UInt8(ascii: "\"") {
            index += 1
            return try Self.text(UnsafeBufferPointer(rebasing: bytes[start..<index - 1]))
        }
        var buffer = Array(bytes[start..<index])
        while true {
            guard let byte = current else { throw Failure() }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try buffer.withUnsafeBufferPointer { (text) throws(Failure) -> String in try Self.text(text) }
            case UInt8(ascii: "\\"):
                try escape(into: &buffer)
            case 0..<0x20:
                throw Failure()
            default:
                buffer.append(byte)
            }
        }
    }

    private static func text(_ utf8: UnsafeBufferPointer<UInt8>) throws(Failure) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else { throw Failure() }
        return text
    }

    private mutating func escape(into buffer: inout [UInt8]) throws(Failure) {
        guard let byte = current else { throw Failure() }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(byte)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try hex4())
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low one.
                guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else { throw Failure() }
                index += 2
                let low = UInt32(try hex4())
                guard (0xDC00..<0xE000).contains(low) else { throw Failure() }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Failure() }
            buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
        default: throw Failure()
        }
    }

    private mutating func hex4() throws(Failure) -> UInt16 {
        guard index + 4 <= bytes.count else { throw Failure() }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure()
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, checked here, converted by the standard library.
    private mutating func number() throws(Failure) -> Double {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        func digits(_ reader: inout JSONReader) -> Int {
            let from = reader.index
            while let byte = reader.current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { reader.index += 1 }
            return reader.index - from
        }
        if current == UInt8(ascii: "0") {
            index += 1
        } else if digits(&self) == 0 {
            throw Failure()
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw Failure() }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw Failure() }
        }
        // Too large for a Double (`9e455`) is refused, as JSONSerialization refuses it: read as
        // infinity, it could only be written back as null.
        guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)),
            value.isFinite
        else {
            throw Failure()
        }
        return value
    }
}
