extension QRCode {
    /// The module grid while a code is built: which modules are dark, and which belong to the
    /// fixed patterns (finders, timing, alignment, format and version areas) that data avoids.
    struct Grid {
        let version: Int
        let size: Int
        var dark: [[Bool]]
        var reserved: [[Bool]]

        init(version: Int) {
            self.version = version
            size = version * 4 + 17
            dark = Array(repeating: Array(repeating: false, count: size), count: size)
            reserved = dark
        }

        mutating func set(row: Int, column: Int, _ isDark: Bool) {
            dark[row][column] = isDark
            reserved[row][column] = true
        }

        mutating func placeFunctionPatterns() {
            for i in 0..<size {
                set(row: 6, column: i, i % 2 == 0)
                set(row: i, column: 6, i % 2 == 0)
            }
            for (row, column) in [(3, 3), (3, size - 4), (size - 4, 3)] { finder(row: row, column: column) }
            let centers = QRCode.alignmentCenters[version]
            for row in centers {
                for column in centers {
                    let onFinder =
                        (row == 6 && column == 6) || (row == 6 && column == centers.last!) || (row == centers.last! && column == 6)
                    if !onFinder { alignment(row: row, column: column) }
                }
            }
            placeFormat(mask: 0)  // reserves the areas; the real bits come after masking
            if version >= 7 { placeVersion() }
        }

        /// A 7×7 finder with its light separator, centred on (row, column).
        mutating func finder(row: Int, column: Int) {
            for dy in -4...4 {
                for dx in -4...4 {
                    let r = row + dy
                    let c = column + dx
                    guard (0..<size).contains(r), (0..<size).contains(c) else { continue }
                    let distance = max(abs(dx), abs(dy))
                    set(row: r, column: c, distance != 2 && distance != 4)
                }
            }
        }

        mutating func alignment(row: Int, column: Int) {
            for dy in -2...2 {
                for dx in -2...2 { set(row: row + dy, column: column + dx, max(abs(dx), abs(dy)) != 1) }
            }
        }

        /// Level M (bits 00) and the mask, BCH(15,5)-protected, in both copies, and the dark module.
        mutating func placeFormat(mask: Int) {
            let data = 0b00 << 3 | mask
            var remainder = data
            for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
            let bits = (data << 10 | remainder) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { set(row: i, column: 8, bit(i)) }
            set(row: 7, column: 8, bit(6))
            set(row: 8, column: 8, bit(7))
            set(row: 8, column: 7, bit(8))
            for i in 9..<15 { set(row: 8, column: 14 - i, bit(i)) }
            for i in 0..<8 { set(row: 8, column: size - 1 - i, bit(i)) }
            for i in 8..<15 { set(row: size - 15 + i, column: 8, bit(i)) }
            set(row: size - 8, column: 8, true)
        }

        /// The version, BCH(18,6)-protected, in the two 6×3 areas (versions 7 and up).
        mutating func placeVersion() {
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let bits = version << 12 | remainder
            for i in 0..<18 {
                let isDark = (bits >> i) & 1 == 1
                let a = size - 11 + i % 3
                let b = i / 3
                set(row: b, column: a, isDark)
                set(row: a, column: b, isDark)
            }
        }

        /// Codeword bits in the standard zigzag: column pairs from the right, up then down,
        /// skipping the vertical timing column. Modules left over stay light (remainder bits).
        mutating func placeData(_ codewords: [UInt8]) {
            var index = 0
            var upward = true
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                for step in 0..<size {
                    let row = upward ? size - 1 - step : step
                    for column in [right, right - 1] where !reserved[row][column] {
                        if index < codewords.count * 8 {
                            dark[row][column] = (codewords[index / 8] >> (7 - index % 8)) & 1 == 1
                        }
                        index += 1
                    }
                }
                upward.toggle()
                right -= 2
            }
        }

        mutating func applyMask(_ mask: Int) {
            for row in 0..<size {
                for column in 0..<size where !reserved[row][column] && Self.masked(mask, row: row, column: column) {
                    dark[row][column].toggle()
                }
            }
        }

        static func masked(_ mask: Int, row y: Int, column x: Int) -> Bool {
            switch mask {
            case 0: (x + y) % 2 == 0
            case 1: y % 2 == 0
            case 2: x % 3 == 0
            case 3: (x + y) % 3 == 0
            case 4: (x / 3 + y / 2) % 2 == 0
            case 5: x * y % 2 + x * y % 3 == 0
            case 6: (x * y % 2 + x * y % 3) % 2 == 0
            default: ((x + y) % 2 + x * y % 3) % 2 == 0
            }
        }

        /// The standard's four penalty rules: runs, 2×2 blocks, finder-like patterns, imbalance.
        func penalty() -> Int {
            var total = 0
            let columns = (0..<size).map { c in (0..<size).map { dark[$0][c] } }
            for line in dark + columns {
                var run = 1
                for i in 1..<size {
                    if line[i] == line[i - 1] {
                        run += 1
                    } else {
                        if run >= 5 { total += run - 2 }
                        run = 1
                    }
                }
                if run >= 5 { total += run - 2 }
                let pattern: [Bool] = [true, false, true, true, true, false, true]
                for start in 0...(size - 7) where Array(line[start..<start + 7]) == pattern {
                    let before = start >= 4 && line[(start - 4)..<start].allSatisfy { !$0 }
                    let after = start + 11 <= size && line[(start + 7)..<(start + 11)].allSatisfy { !$0 }
                    if before || after { total += 40 }
                }
            }
            for row in 0..<(size - 1) {
                for column in 0..<(size - 1) {
                    let c = dark[row][column]
                    if dark[row][column + 1] == c, dark[row + 1][column] == c, dark[row + 1][column + 1] == c { total += 3 }
                }
            }
            let darkCount = dark.reduce(0) { $0 + $1.filter { $0 }.count }
            let percent = darkCount * 100 / (size * size)
            total += abs(percent - 50) / 5 * 10
            return total
        }
    }
}

extension QRCode {
    /// The code as text for a terminal: two module rows per line with half blocks, black on a
    /// forced white background (so it scans on dark terminals too), and the quiet zone of 4
    /// modules around it that scanners need.
    public func terminalText() -> String {
        let quiet = 4
        let width = size + 2 * quiet
        func isDark(_ row: Int, _ column: Int) -> Bool {
            let r = row - quiet
            let c = column - quiet
            return (0..<size).contains(r) && (0..<size).contains(c) && modules[r][c]
        }
        var lines: [String] = []
        for row in stride(from: 0, to: width, by: 2) {
            var line = "\u{1B}[30;47m"
            for column in 0..<width {
                switch (isDark(row, column), row + 1 < width && isDark(row + 1, column)) {
                case (true, true): line += "█"
                case (true, false): line += "▀"
                case (false, true): line += "▄"
                case (false, false): line += " "
                }
            }
            lines.append(line + "\u{1B}[0m")
        }
        return lines.joined(separator: "\n")
    }
}
