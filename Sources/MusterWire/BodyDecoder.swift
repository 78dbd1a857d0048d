import Foundation

/// Decodes a request body and turns every decoding failure into the precise MUSTER/1 error:
/// `bad_json` when it is not JSON, `bad_field` naming the field otherwise.
public enum BodyDecoder {
    public static let maxIDLength = 64

    public static func decode<R: Request>(_ type: R.Type, from body: [UInt8]) -> Result<R, WireError> {
        tree(body).flatMap { decode(type, from: $0) }
    }

    /// The body read once (`bad_json` if it is not JSON), to decode from and take parts of.
    public static func tree(_ body: [UInt8]) -> Result<JSONTree, WireError> {
        do { return .success(try JSONTree.parse(body)) } catch { return .failure(WireError(.badJSON, "body is not valid JSON")) }
    }

    public static func decode<R: Request>(_ type: R.Type, from tree: JSONTree) -> Result<R, WireError> {
        do {
            let value = try plain(R.self, tree) ?? R(from: TreeDecoder(tree: tree, codingPath: []))
            if value.id.isEmpty || value.id.utf8.count > maxIDLength || value.id.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                return .failure(.badField("id", "id must be 1…\(maxIDLength) characters, none of them control characters"))
            }
            try value.validate()
            return .success(value)
        } catch let error as WireError {
            return .failure(error)
        } catch let error as DecodingError {
            return .failure(wireError(error))
        } catch {
            return .failure(WireError(.badJSON, "\(error)"))
        }
    }

    /// For the few bodies without an `id` (RECEIVED).
    public static func decodePlain<T: Decodable>(_ type: T.Type, from body: [UInt8]) -> Result<T, WireError> {
        do {
            let tree = try JSONTree.parse(body)
            return .success(try plain(T.self, tree) ?? T(from: TreeDecoder(tree: tree, codingPath: [])))
        } catch is JSONTree.Malformed {
            return .failure(WireError(.badJSON, "body is not valid JSON"))
        } catch let error as DecodingError {
            return .failure(wireError(error))
        } catch {
            return .failure(WireError(.badJSON, "\(error)"))
        }
    }

    /// The value read without Codable, when its type can be and the body has the usual shape.
    private static func plain<T>(_ type: T.Type, _ tree: JSONTree) -> T? {
        (type as? PlainDecodable.Type)?.init(plain: tree) as? T
    }

    /// Reads just the request id, to answer a malformed request with `re` when possible.
    public static func requestID(in body: [UInt8]) -> String? {
        guard let tree = try? JSONTree.parse(body), case .string(let id)? = tree["id"]?.value else { return nil }
        return id
    }

    static func path(_ codingPath: [CodingKey], _ last: CodingKey? = nil) -> String {
        var parts: [String] = []
        for key in codingPath + (last.map { [$0] } ?? []) {
            if let i = key.intValue { parts.append("[\(i)]") }
            else { parts.append((parts.isEmpty ? "" : ".") + key.stringValue) }
        }
        return parts.joined()
    }

    static func wireError(_ error: DecodingError) -> WireError {
        switch error {
        case .keyNotFound(let key, let ctx):
            let field = path(ctx.codingPath, key)
            return .badField(field, "missing required field \(field)")
        case .typeMismatch(let type, let ctx):
            let field = path(ctx.codingPath)
            return .badField(field, "\(field) has the wrong type; expected \(describe(type))")
        case .valueNotFound(let type, let ctx):
            let field = path(ctx.codingPath)
            return .badField(field, "\(field) is null; expected \(describe(type))")
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                return WireError(.badJSON, "body is not valid JSON")
            }
            let field = path(ctx.codingPath)
            return .badField(field, "\(field) has an invalid value")
        @unknown default:
            return WireError(.badJSON, "undecodable body")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
