import Crypto
import Foundation
import SwitchyardConfigDoc
import SwitchyardJSON

/// The server's public signing keys, as an edge is given them: the JSON that
/// `GET /api/v1/signing-keys` answers (`{"keys": [{"key_id", "public_key"}]}`),
/// saved to a file when the edge is installed, and/or `ID=BASE64` pairs.
public enum TrustedKeys {
    public static func verifier(file: String?, pairs: [String]) throws -> EnvelopeVerifier {
        var keys: [String: Curve25519.Signing.PublicKey] = [:]
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw AgentError("\(file): cannot read the trusted signing keys")
            }
            let json: JSONValue
            do {
                json = try JSONValue(parsing: Array(data))
            } catch {
                throw AgentError("\(file): \(error)")
            }
            guard let list = json["keys"]?.arrayValue else {
                throw AgentError("\(file): expected {\"keys\": [{\"key_id\": …, \"public_key\": …}]}, the answer of GET /api/v1/signing-keys")
            }
            for (i, entry) in list.enumerated() {
                guard let id = entry["key_id"]?.stringValue, let text = entry["public_key"]?.stringValue else {
                    throw AgentError("\(file): keys[\(i)]: needs \"key_id\" and \"public_key\" strings")
                }
                do {
                    keys[id] = try SigningKeyText.publicKey(text)
                } catch {
                    throw AgentError("\(file): keys[\(i)] (\(id)): \(error.message)")
                }
            }
        }
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw AgentError("--trust-key \(pair): expected KEY_ID=PUBLIC_KEY (base64)")
            }
            do {
                keys[String(pair[..<eq])] = try SigningKeyText.publicKey(String(pair[pair.index(after: eq)...]))
            } catch {
                throw AgentError("--trust-key \(pair[..<eq]): \(error.message)")
            }
        }
        guard !keys.isEmpty else {
            throw AgentError("no trusted signing key: give --trust FILE (the answer of GET /api/v1/signing-keys) or --trust-key ID=KEY")
        }
        return EnvelopeVerifier(keys: keys)
    }
}
