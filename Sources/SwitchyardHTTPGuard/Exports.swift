// The framer and its limits are pure (no NIO) so that the fuzz build can take them alone.
@_exported import SwitchyardHTTPFraming
