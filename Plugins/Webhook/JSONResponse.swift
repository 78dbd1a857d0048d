import Foundation
import Hummingbird
import NIOCore

/// The answers of the HTTP APIs the adapters serve (the departments' updates endpoint, the
/// intake APIs): JSON with sorted keys, and the one 401 every signed API gives.
public enum JSONResponse {
    public static func make(_ status: Int, _ doc: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A request that proves no client (`ClientProof`).
    public static var unauthorized: Response {
        make(401, ["error": "身份验证失败 — name your client in X-Muster-Client and sign the request (X-Muster-Timestamp, X-Muster-Signature: sha256=HMAC over timestamp.body) or send Authorization: Bearer KEY"])
    }
}
