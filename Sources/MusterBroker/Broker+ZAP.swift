import Foundation
import MusterCore
import ZeroMQ

/// The ZAP handler (RFC 27): libzmq asks it about every CURVE handshake; it admits the public
/// keys of config/peers.yaml and gives the key itself as the connection's user id — never the
/// principal's name, so that a key replaced under the same name loses its rights. A refusal is
/// logged with the key's fingerprint and the peer's address (a silent non-connection is what
/// peer authors otherwise see).
extension Broker {
    static let zapEndpoint = "inproc://zeromq.zap.01"

    func handleZAP() {
        guard let zap else { return }
        while let frames = try? zap.receive(dontWait: true) {
            guard frames.count >= 6 else { continue }
            let requestID = frames[1]
            let address = String(decoding: frames[3], as: UTF8.self)
            let mechanism = String(decoding: frames[5], as: UTF8.self)
            var status = "400", text = "unknown key", user = ""
            if mechanism == "CURVE", frames.count >= 7, let key = CurveKeyPair.z85(frames[6]) {
                if config.security?.principals[key] != nil {
                    status = "200"; text = "OK"; user = key
                } else {
                    logger.warning("refused an unknown CURVE key", metadata: ["fingerprint": "\(key.prefix(8))…", "address": "\(address)"])
                }
            } else {
                logger.warning("refused a connection without CURVE", metadata: ["mechanism": "\(mechanism)", "address": "\(address)"])
                text = "CURVE required"
            }
            _ = try? zap.send([Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(user.utf8), []])
        }
    }

    /// The principal of the key a connection authenticated with (nil in insecure mode, or once
    /// the key is no longer listed).
    func principal(ofKey key: String?) -> Principal? {
        key.flatMap { config.security?.principals[$0] }
    }

    /// Replaces the admitted keys (peers.yaml edited; SIGHUP or `muster keys reload`). Safe from
    /// any thread; the broker applies it on its own: new handshakes use the new list at once, and
    /// live sessions whose key was revoked, or whose HELLO no longer fits, are dropped.
    public func reloadPeers(_ principals: [String: Principal]) {
        pendingPeers.withLock { $0 = principals }
    }

    func applyPendingPeers() {
        guard let principals = pendingPeers.withLock({ p -> [String: Principal]? in let x = p; p = nil; return x }),
              config.security != nil else { return }
        config.security!.principals = principals
        for (rid, s) in sessions {
            guard let key = s.publicKey else { continue }
            let p = principals[key]
            if p == nil || s.hello.flatMap({ p!.refusal(of: $0) }) != nil {
                logger.warning("session dropped: its key was revoked or no longer allows it",
                               metadata: ["adapter": "\(s.actor.adapter)", "fingerprint": "\(key.prefix(8))…", "principal": "\(p?.name ?? "(removed)")"])
                drop(rid, reason: "key revoked")
                // A revoked key's connection cannot come back: ZAP refuses its next handshake,
                // and its requests meanwhile get not_registered.
            }
        }
        logger.info("peers reloaded", metadata: ["keys": "\(principals.count)"])
    }
}
