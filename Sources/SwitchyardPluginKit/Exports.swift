@_exported import CSwitchyardPlugin
