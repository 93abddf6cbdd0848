import Testing
import SwitchyardConfigDoc
import SwitchyardFuzzTargets
import SwitchyardJSON
import SwitchyardTestSupport

/// Every seed and every crash the fuzzers ever found (Fuzz/corpus/NAME,
/// Fuzz/crashes/NAME), fed to the same entry functions as `make fuzz`
/// runs: a crash found once stays fixed. See docs/fuzzing.md.
@Suite struct FuzzReplayTests {
    static let context = FuzzContext(profileDirectory: TestPaths.profileDirectory)

    @Test("each target replays its corpus and its crashes without trapping", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        let root = TestPaths.packageRoot + "/Fuzz"
        let seeds = FuzzContext.corpus(root + "/corpus/\(target.rawValue)")
        let crashes = FuzzContext.corpus(root + "/crashes/\(target.rawValue)")
        #expect(!seeds.isEmpty, "Fuzz/corpus/\(target.rawValue) has seeds")
        for file in seeds + crashes {
            let bytes = try #require(FuzzContext.readBytes(file), "\(file) reads")
            target.run(bytes, Self.context)
        }
    }

    @Test("the context holds the repo's profiles and a verifier that accepts the seed envelope")
    func context() throws {
        #expect(Self.context.validator.profiles.count >= 10)
        let seed = try SignedEnvelope(decoding: try JSONValue(parsing: Self.context.seedEnvelope(version: 1)))
        let verified = try Self.context.verifier.verify(seed, content: .object([:]), edgeId: "e1", currentVersion: nil, now: 1_760_000_100)
        #expect(verified.version == 1, "the envelope seeds reach the verifier's last checks")
    }
}
