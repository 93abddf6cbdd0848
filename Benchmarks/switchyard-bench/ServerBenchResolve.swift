import SwitchyardConfigDoc
import SwitchyardJSON

extension ServerBench {
    /// Resolution of a ~50 KB effective config from 4 layers: `LayerMerge`
    /// of ConfigDocWorkload's layers (no cache), canonical encoding and
    /// SHA-256, as the server does for a stack it has not merged before.
    func resolution() async throws {
        let layers = ConfigDocWorkload().layers
        let merge = LayerMerge()
        let runs = options.resolveRuns
        var sink = 0
        for _ in 0..<max(50, runs / 10) {  // warm-up
            let document = try merge.effectiveDocument(of: layers)
            sink &+= Int(ConfigDigest(canonicalText: document.canonicalText).bytes[0])
        }
        var total: [Double] = []
        var mergeOnly: [Double] = []
        var encodeOnly: [Double] = []
        var hashOnly: [Double] = []
        total.reserveCapacity(runs)
        var size = 0
        let profiler = await SBProfiler("resolve")
        for _ in 0..<runs {
            let t0 = SBTime.now()
            let document = try merge.effectiveDocument(of: layers)
            let t1 = SBTime.now()
            let text = document.canonicalText
            let t2 = SBTime.now()
            let digest = ConfigDigest(canonicalText: text)
            let t3 = SBTime.now()
            sink &+= Int(digest.bytes[0])
            size = text.utf8.count
            total.append(Double(t3 - t0) / 1e9)
            mergeOnly.append(Double(t1 - t0) / 1e9)
            encodeOnly.append(Double(t2 - t1) / 1e9)
            hashOnly.append(Double(t3 - t2) / 1e9)
        }
        await profiler.stop()
        total.sort()
        mergeOnly.sort()
        encodeOnly.sort()
        hashOnly.sort()
        let median = SBStats.percentile(total, 0.5)
        let p99 = SBStats.percentile(total, 0.99)
        print("resolution of a \(SBFormat.kb(size)) effective config from 4 layers (ConfigDocWorkload: LayerMerge, canonical encoding, SHA-256; "
            + "no cache), \(runs) runs:")
        print("  median \(SBFormat.ms(median))   p99 \(SBFormat.ms(p99))   max \(SBFormat.ms(total.last ?? .nan))   "
            + "target <= 1 ms: median \(SBFormat.met(median <= 0.001)), p99 \(SBFormat.met(p99 <= 0.001))")
        print("  of which (medians): merge \(SBFormat.ms(SBStats.percentile(mergeOnly, 0.5)))   "
            + "canonical encoding \(SBFormat.ms(SBStats.percentile(encodeOnly, 0.5)))   SHA-256 \(SBFormat.ms(SBStats.percentile(hashOnly, 0.5)))"
            + (sink == 42 ? " " : ""))
        print("")
    }
}
