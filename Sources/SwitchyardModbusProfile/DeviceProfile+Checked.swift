import SwitchyardJSON
import SwitchyardModel

extension DeviceProfile {
    /// A resolved profile document, checked as the host and its driver need:
    /// a Modbus profile (driver `modbus`) must also pass every check of
    /// `ModbusProfile`. The edge's profile catalog and the server's catalog
    /// both load profiles through this, so they refuse the same documents.
    public static func checked(_ json: JSONValue, file: String?) throws(ValidationError) -> DeviceProfile {
        let profile: DeviceProfile
        do {
            profile = try DeviceProfile(json: json, file: file)
        } catch {
            throw file.map { error.inFile($0) } ?? error
        }
        if profile.driver == ModbusProfile.driverClass {
            _ = try ModbusProfile(json: json, file: file)
        }
        return profile
    }
}
