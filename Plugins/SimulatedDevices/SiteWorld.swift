import Synchronization

/// The physics shared by the simulated devices of one site: what each source
/// and sink does at a time `t`. The grid meter reads it to compute
/// grid = load − pv − battery. One world per `site` parameter.
final class SiteWorld: Sendable {
    struct State {
        var batteryPowerW: [UInt64: Double] = [:]
        var pv: [UInt64: PVModel] = [:]
        var loads: [UInt64: LoadModel] = [:]
    }

    let state = Mutex(State())

    private static let worlds = Mutex<[String: SiteWorld]>([:])
    private static let keys = Atomic<UInt64>(0)

    /// A key for one device instance. During a config change the new instance
    /// of a device is created before the old one is destroyed, so entries are
    /// keyed by instance, not by device id.
    static func newKey() -> UInt64 { keys.add(1, ordering: .relaxed).newValue }

    static func named(_ name: String) -> SiteWorld {
        worlds.withLock { all in
            if let w = all[name] { return w }
            let w = SiteWorld()
            all[name] = w
            return w
        }
    }

    /// Removes whatever the device instance `key` contributed to the site.
    func leave(_ key: UInt64) {
        state.withLock { s in
            s.batteryPowerW[key] = nil
            s.pv[key] = nil
            s.loads[key] = nil
        }
    }

    /// Grid power at the connection point, positive = import.
    func gridPower(wallClockNs: Int64) -> Double {
        state.withLock { s in
            let load = s.loads.values.reduce(0) { $0 + $1.power(wallClockNs: wallClockNs) }
            let pv = s.pv.values.reduce(0) { $0 + $1.power(wallClockNs: wallClockNs) }
            let battery = s.batteryPowerW.values.reduce(0, +)
            return load - pv - battery
        }
    }
}

/// Smooth deterministic noise in [-1, 1]: values hashed from (seed, minute)
/// and interpolated, so consecutive polls see a continuous signal.
func smoothNoise(seed: UInt64, seconds: Double, periodSeconds: Double = 60) -> Double {
    let x = seconds / periodSeconds
    let i = x.rounded(.down)
    let f = x - i
    let a = hashUnit(seed, Int64(i))
    let b = hashUnit(seed, Int64(i) + 1)
    let s = f * f * (3 - 2 * f)
    return a + (b - a) * s
}

private func hashUnit(_ seed: UInt64, _ n: Int64) -> Double {
    var z = seed &+ UInt64(bitPattern: n) &* 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Double(z >> 11) / Double(1 << 53) * 2 - 1
}

/// Hours since local midnight.
func hourOfDay(wallClockNs: Int64, utcOffsetHours: Double) -> Double {
    let seconds = Double(wallClockNs) / 1e9 + utcOffsetHours * 3600
    let day = 86_400.0
    let r = seconds.truncatingRemainder(dividingBy: day)
    return (r < 0 ? r + day : r) / 3600
}

struct PVModel: Sendable {
    var peakW: Double
    var sunriseHour: Double
    var sunsetHour: Double
    var cloudiness: Double
    var utcOffsetHours: Double
    var seed: UInt64
    var limitW: Double = .infinity

    func available(wallClockNs: Int64) -> Double {
        let h = hourOfDay(wallClockNs: wallClockNs, utcOffsetHours: utcOffsetHours)
        guard h > sunriseHour, h < sunsetHour else { return 0 }
        let sun = sin(Double.pi * (h - sunriseHour) / (sunsetHour - sunriseHour))
        let clouds = 1 - cloudiness * (0.5 + 0.5 * smoothNoise(seed: seed, seconds: Double(wallClockNs) / 1e9, periodSeconds: 120))
        return max(0, peakW * sun * clouds)
    }

    func power(wallClockNs: Int64) -> Double {
        min(available(wallClockNs: wallClockNs), limitW)
    }
}

struct LoadModel: Sendable {
    var baseW: Double
    var morningPeakW: Double
    var eveningPeakW: Double
    var noise: Double
    var utcOffsetHours: Double
    var seed: UInt64

    func power(wallClockNs: Int64) -> Double {
        let h = hourOfDay(wallClockNs: wallClockNs, utcOffsetHours: utcOffsetHours)
        let morning = morningPeakW * bump(h, center: 7.5, width: 1.2)
        let evening = eveningPeakW * bump(h, center: 19, width: 1.8)
        let jitter = 1 + noise * smoothNoise(seed: seed, seconds: Double(wallClockNs) / 1e9, periodSeconds: 30)
        return max(0, (baseW + morning + evening) * jitter)
    }

    private func bump(_ h: Double, center: Double, width: Double) -> Double {
        let d = (h - center) / width
        return exp(-d * d)
    }
}

#if canImport(Glibc)
import Glibc
#endif
