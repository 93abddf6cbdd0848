extension EdgeHost {
    /// [thread-safe] Asks for `value` to be written to the channel at
    /// `address` (`device/Point`, or a standard name) by hand: the next
    /// cycle's write phase hands it to the device's worker, whose driver
    /// applies the profile's write rules. Refused at once for an unknown or
    /// read-only channel or a device that is not running; refused at the
    /// write phase if a controller set the channel in that cycle, unless
    /// `force`. The outcome settles the returned ticket and is logged with
    /// `requestedBy` as the audit line.
    public func submitWrite(_ address: String, value: Double, force: Bool, requestedBy: String) -> ManualWriteTicket {
        let ticket = ManualWriteTicket(address: address, value: value, force: force, requestedBy: requestedBy, log: log)
        guard value.isFinite else {
            ticket.finish(.refused("\(value) is not a number"))
            return ticket
        }
        guard let handle = directory.handle(for: address), let info = directory.info(handle),
              let running = sharedSnapshot().running,
              let worker = running.workers.first(where: { $0.page.slot(of: handle) != nil }) else {
            let known = address.contains("/") ? "" : " (write it as device_id/Point)"
            ticket.finish(.unknownChannel("no channel \"\(address)\" in the running config\(known)"))
            return ticket
        }
        guard info.writable else {
            ticket.finish(.refused("\(info.address) is read-only in profile \(worker.device.profile.id)"))
            return ticket
        }
        let device = worker.status.withLock { $0 }
        guard device.state == .running else {
            ticket.finish(.failed("device \(device.deviceId) is \(device.state.rawValue)" + (device.lastError.map { ": \($0)" } ?? "")))
            return ticket
        }
        guard isRunning || deviceIO == .inline else {
            ticket.finish(.failed("the cycle is not running"))
            return ticket
        }
        manualWrites.withLock { $0.append((handle, ticket)) }
        return ticket
    }

    /// [control] `submitWrite`, waiting for the outcome: up to two cycle
    /// periods for the write phase plus `timeoutNs` for the device.
    public func write(_ address: String, value: Double, force: Bool, requestedBy: String,
                      timeoutNs: Int64 = 10_000_000_000) -> ManualWriteOutcome {
        let ticket = submitWrite(address, value: value, force: force, requestedBy: requestedBy)
        let period = sharedSnapshot().running?.periodNs ?? 0
        if let outcome = ticket.wait(timeoutNs: 2 * period + timeoutNs) { return outcome }
        ticket.finish(.failed("no outcome within \((2 * period + timeoutNs) / 1_000_000) ms (the device may still take it)"))
        return ticket.outcome ?? .failed("no outcome")
    }
}
