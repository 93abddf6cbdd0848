/// Capped exponential backoff with full jitter: the n-th retry waits a
/// uniformly random time in `0 ... min(cap, base · 2ⁿ)`, so a thousand edges
/// that lost the server together do not come back together.
public struct Backoff: Sendable {
    public var baseSeconds: Double
    public var capSeconds: Double
    public private(set) var attempt = 0

    public init(baseSeconds: Double = 0.5, capSeconds: Double = 30) {
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
    }

    /// The ceiling of the next wait, before jitter.
    public var ceiling: Double { min(capSeconds, baseSeconds * Double(1 << min(attempt, 30))) }

    /// The next wait, and one attempt more.
    public mutating func next<G: RandomNumberGenerator>(using generator: inout G) -> Double {
        defer { advance() }
        return Double.random(in: 0...ceiling, using: &generator)
    }

    /// One attempt more, without drawing a wait (a caller that wants the ceiling itself).
    public mutating func advance() { attempt += 1 }

    public mutating func next() -> Double {
        var g = SystemRandomNumberGenerator()
        return next(using: &g)
    }

    public mutating func reset() { attempt = 0 }
}
