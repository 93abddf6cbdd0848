import CFuzzDriver
import SwitchyardFuzzTargets
#if canImport(Glibc)
import Glibc
#endif

// `switchyard-fuzz`: built with `-sanitize=fuzzer -D FUZZING` (make fuzz), it
// is a libFuzzer binary for the target named by $SWITCHYARD_FUZZ_TARGET;
// built normally, it replays files through the same entry functions
// (`switchyard-fuzz TARGET FILE...`).

/// Built on first use: the profiles are read once.
let context = FuzzContext(profileDirectory: getenv("SWITCHYARD_FUZZ_PROFILES").map { String(cString: $0) } ?? "DeviceProfiles")

func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

#if FUZZING
let target: FuzzTarget = {
    let name = getenv("SWITCHYARD_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        printError("set SWITCHYARD_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    target.run(bytes, context)
    return 0
}

@main
struct Fuzz {
    static func main() {
        exit(switchyard_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv))
    }
}
#else
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "pack-key" {
            // The private key file of the vendor key the pack target trusts, to sign seeds with.
            print(context.packKey.fileText, terminator: "")
            return
        }
        if arguments.first == "chunk-seeds", let folder = arguments.dropFirst().first {
            // Chunks for the corpus: XOR values, scaled decimals with an escape, and qualities.
            context.writeChunkSeeds(to: folder)
            return
        }
        if arguments.first == "envelope-seed" {
            // A valid envelope for the corpus: signed by the context's fixed key over its own JSON.
            print(context.seedEnvelope(version: Int(arguments.dropFirst().first ?? "") ?? 1))
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            printError("usage: switchyard-fuzz TARGET FILE... (TARGET: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(2)
        }
        for file in arguments.dropFirst() {
            guard let bytes = FuzzContext.readBytes(file) else {
                printError("\(file): cannot be read")
                exit(1)
            }
            target.run(bytes, context)
        }
        print("\(name): \(arguments.count - 1) input(s) replayed")
    }
}
#endif
