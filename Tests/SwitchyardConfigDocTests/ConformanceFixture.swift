import Foundation
import SwitchyardJSON

/// The json-patch-tests suite copied into Fixtures/ (see its SOURCE.md).
enum ConformanceFixture {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Fixtures/json-patch-tests").path
    }()

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
    }

    /// The texts of the elements of a top-level JSON array, split without
    /// parsing them, so that one record our parser refuses does not hide
    /// the others.
    static func records(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var records: [String] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start: Int? = nil
        for (index, byte) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if depth == 1 && start == nil { start = index }
                depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 1, let first = start {
                    records.append(String(decoding: bytes[first...index], as: UTF8.self))
                    start = nil
                }
            default:
                break
            }
        }
        return records
    }
}
