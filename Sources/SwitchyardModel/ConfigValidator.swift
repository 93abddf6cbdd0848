import SwitchyardJSON

/// One class offered by an installed plugin, as the validator sees it.
public struct PluginClassInfo: Sendable, Hashable {
    public var pluginId: String
    public var pluginVersion: String
    public var kind: PluginKind
    public var entry: PluginManifest.ClassEntry

    public init(pluginId: String, pluginVersion: String, kind: PluginKind, entry: PluginManifest.ClassEntry) {
        self.pluginId = pluginId
        self.pluginVersion = pluginVersion
        self.kind = kind
        self.entry = entry
    }
}

/// A config checked against the installed plugins and profiles, with every
/// parameter validated and defaults filled in: what the host builds from.
public struct ResolvedConfig: Sendable, Hashable {
    public struct Controller: Sendable, Hashable {
        public var config: ControllerConfig
        public var plugin: PluginClassInfo
        public var parameters: JSONValue
    }

    public struct Device: Sendable, Hashable {
        public struct PollGroup: Sendable, Hashable {
            public var name: String
            /// nil: once after each (re)connect.
            public var intervalMs: Int?
            public var channels: [String]
        }

        public var config: DeviceConfig
        public var profile: DeviceProfile
        public var plugin: PluginClassInfo
        public var parameters: JSONValue
        public var pollGroups: [PollGroup]

        public var id: String { config.deviceId }
    }

    public var config: EdgeConfig
    /// All controllers, in document order; `executionPlan` orders the enabled ones.
    public var controllers: [Controller]
    public var devices: [Device]
}

/// Checks a config against what is installed: every controller class exists
/// and is a controller, every parameter fits its class's schema, every
/// device's profile exists and names an installed driver, every channel that
/// an alarm or a controller binding names exists.
public struct ConfigValidator: Sendable {
    public var classes: [String: PluginClassInfo]
    public var profiles: [String: DeviceProfile]

    public init(classes: [String: PluginClassInfo], profiles: [String: DeviceProfile]) {
        self.classes = classes
        self.profiles = profiles
    }

    public func resolve(_ config: EdgeConfig) throws(ValidationError) -> ResolvedConfig {
        let issues = IssueList()

        var devices: [ResolvedConfig.Device] = []
        var profileOf: [String: DeviceProfile] = [:]
        let disabledDevices = Set(config.devices.filter { !$0.enabled }.map(\.deviceId))
        for device in config.devices {
            guard let profile = profiles[device.profile] else {
                var message = "unknown profile \"\(device.profile.echoed())\""
                if let s = closestMatch(to: device.profile, in: profiles.keys.sorted()) { message += " (did you mean \"\(s)\"?)" }
                issues.add(device.path.appending("profile"), message + "; profiles are looked up by their \"id\"")
                continue
            }
            profileOf[device.deviceId] = profile
            guard let plugin = lookUp(profile.driver, kind: .driver, at: device.path.appending("profile"), issues: issues,
                                      context: "profile \"\(profile.id)\" needs driver class") else { continue }
            var merged = profile.parameters
            for (k, v) in device.parameters { merged[k] = v }
            let parameters = plugin.entry.parameters.validate(.object(merged), at: device.path.appending("parameters"), issues: issues)
            if let schema = plugin.entry.connection {
                if let connection = device.connection {
                    _ = schema.validate(connection, at: device.path.appending("connection"), issues: issues)
                } else if !schema.required.isEmpty {
                    issues.add(device.path.appending("connection"), "is required by driver \(profile.driver)")
                }
            }
            devices.append(ResolvedConfig.Device(
                config: device, profile: profile, plugin: plugin, parameters: parameters,
                pollGroups: pollGroups(device, profile, config, issues)))
        }

        var controllers: [ResolvedConfig.Controller] = []
        for controller in config.controllers {
            guard let plugin = lookUp(controller.className, kind: .controller, at: controller.path.appending("class"), issues: issues,
                                      context: "class") else { continue }
            let parametersPath = controller.path.appending("parameters")
            let bound = bindDevices(plugin.entry.parameters, controller.parameters, at: parametersPath, devices: profileOf,
                                    enabled: Set(config.devices.filter(\.enabled).map(\.deviceId)), issues: issues)
            let parameters = plugin.entry.parameters.validate(.object(bound), at: parametersPath, issues: issues)
            checkDeviceBindings(plugin.entry.parameters, parameters, at: parametersPath, devices: profileOf,
                                disabled: controller.enabled ? disabledDevices : [], issues: issues)
            controllers.append(ResolvedConfig.Controller(config: controller, plugin: plugin, parameters: parameters))
        }

        for alarm in config.alarms {
            checkChannel(alarm.channel, at: alarm.path.appending("channel"), devices: profileOf, config: config, issues: issues)
        }
        try issues.check()
        return ResolvedConfig(config: config, controllers: controllers, devices: devices)
    }

    private func lookUp(_ className: String, kind: PluginKind, at path: JSONPath, issues: IssueList, context: String) -> PluginClassInfo? {
        guard let info = classes[className] else {
            var message = "\(context) \"\(className.echoed())\" is not provided by any loaded plugin"
            let sameKind = classes.values.filter { $0.kind == kind }.map(\.entry.name).sorted()
            if let s = closestMatch(to: className, in: sameKind) {
                message += " (did you mean \"\(s)\"?)"
            } else if !sameKind.isEmpty {
                message += " (available: \(sameKind.joined(separator: ", ")))"
            }
            issues.add(path, message)
            return nil
        }
        guard info.kind == kind else {
            issues.add(path, "\"\(className.echoed())\" is a \(info.kind.rawValue) class (plugin \(info.pluginId)), not a \(kind.rawValue)")
            return nil
        }
        return info
    }

    private func pollGroups(_ device: DeviceConfig, _ profile: DeviceProfile, _ config: EdgeConfig, _ issues: IssueList) -> [ResolvedConfig.Device.PollGroup] {
        let fallback = device.pollIntervalMs ?? config.coreCycle.periodMs
        if device.pollGroups.isEmpty {
            if profile.pollGroups.isEmpty {
                return [.init(name: "default", intervalMs: fallback, channels: profile.channels.map(\.name))]
            }
            return profile.pollGroups.map { .init(name: $0.name, intervalMs: $0.intervalMs, channels: $0.channels) }
        }
        var out: [ResolvedConfig.Device.PollGroup] = []
        for (name, channels) in device.pollGroups.sorted(by: { $0.key < $1.key }) {
            for (i, channel) in channels.enumerated() where profile.channel(named: channel) == nil {
                var message = "profile \"\(profile.id)\" has no channel \"\(channel.echoed())\""
                if let s = closestMatch(to: channel, in: profile.channels.map(\.name)) { message += " (did you mean \"\(s)\"?)" }
                issues.add(device.path.appending("poll_groups").appending(name).appending(index: i), message)
            }
            let interval = profile.pollGroups.first { $0.name == name }.map(\.intervalMs) ?? fallback
            // Drivers see channel names, however the config addressed them.
            out.append(.init(name: name, intervalMs: interval, channels: channels.map { profile.channel(named: $0)?.name ?? $0 }))
        }
        return out
    }

    private func checkChannel(_ address: String, at path: JSONPath, devices: [String: DeviceProfile], config: EdgeConfig, issues: IssueList) {
        let parts = address.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return }  // reported when the rule was read
        guard let profile = devices[parts[0]] else {
            if !config.devices.contains(where: { $0.deviceId == parts[0] }) {
                issues.add(path, "no device \"\(parts[0].echoed())\" in this config")
            }
            return
        }
        guard let channel = profile.channel(named: parts[1]) else {
            var message = "device \"\(parts[0].echoed())\" (profile \(profile.id)) has no channel \"\(parts[1].echoed())\""
            if let s = closestMatch(to: parts[1], in: profile.channels.map(\.name)) { message += " (did you mean \"\(s)\"?)" }
            issues.add(path, message)
            return
        }
        if channel.isText {
            issues.add(path, "\(address) is a text channel (profile \(profile.id)): the process image that controllers and alarms read carries "
                + "numbers only, so it would never have a value here; its text shows in /channels, switchyard-edge status and the heartbeats")
        }
    }

    /// A `device` parameter left out of the config is bound to the one
    /// enabled device implementing its family, so that a site with one
    /// battery and one meter needs no wiring (the spec's example names
    /// none). With none or several, a required parameter is an error that
    /// says which devices could be named.
    private func bindDevices(_ schema: ParameterSchema, _ given: [String: JSONValue], at path: JSONPath, devices: [String: DeviceProfile],
                             enabled: Set<String>, issues: IssueList) -> [String: JSONValue] {
        var out = given
        for (name, property) in schema.properties.sorted(by: { $0.key < $1.key }) {
            guard let family = property.device, given[name] == nil, property.defaultValue == nil else { continue }
            let candidates = devices.filter { enabled.contains($0.key) && $0.value.implements(family: family) }.keys.sorted()
            if candidates.count == 1 {
                out[name] = .string(candidates[0])
            } else if schema.required.contains(name) {
                issues.add(path.appending(name), candidates.isEmpty
                    ? "no enabled device of this config implements \(family).* channels to bind it to"
                    : "several devices implement \(family).* channels (\(candidates.joined(separator: ", "))): name one")
            }
        }
        return out
    }

    /// Every parameter declared with `device` must name a device of this
    /// config implementing that family, and an enabled controller cannot use
    /// a disabled device.
    private func checkDeviceBindings(_ schema: ParameterSchema, _ value: JSONValue, at path: JSONPath, devices: [String: DeviceProfile],
                                     disabled: Set<String>, issues: IssueList) {
        guard case .object(let members) = value else { return }
        for (name, property) in schema.properties {
            guard let family = property.device, case .string(let deviceId)? = members[name] else { continue }
            guard let profile = devices[deviceId] else {
                let candidates = devices.filter { $0.value.implements(family: family) }.keys.sorted()
                issues.add(path.appending(name), "no device \"\(deviceId.echoed())\" in this config" + (candidates.isEmpty ? "" : " (devices with \(family).* channels: \(candidates.joined(separator: ", ")))"))
                continue
            }
            if !profile.implements(family: family) {
                issues.add(path.appending(name), "device \"\(deviceId)\" (profile \(profile.id)) implements no \(family).* channel")
            } else if disabled.contains(deviceId) {
                issues.add(path.appending(name), "device \"\(deviceId)\" is disabled (enabled: false); enable it or disable this controller")
            }
        }
    }
}
