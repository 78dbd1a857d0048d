import Foundation
import MusterTesting
import MusterConfig
import MusterCore
import Testing
import MusterWire
import ZeroMQ

/// CURVE with ZAP against the real broker: known keys join within their principal's claims;
/// unknown keys and plain peers never get an answer.
@Suite(.serialized) struct CurveTests {
    @Test func onlyKnownKeysJoinAndOnlyAsWhatTheirPrincipalAllows() throws {
        let server = try CurveKeyPair.generate(), cg = try CurveKeyPair.generate(), stranger = try CurveKeyPair.generate()
        let h = try BrokerHarness { cfg in
            cfg.security = .init(serverPublicKey: server.publicKey, serverSecretKey: server.secretKey, principals: [
                cg.publicKey: Principal(name: "chengguan-erqi", publicKey: cg.publicKey, adapters: ["chengguan-*"], roles: [.agency], agencies: ["chengguan"]),
            ], peersFile: "")
        }
        defer { h.stop() }
        let good = try TestPeer(h.endpoint, name: "cg", curve: (server.publicKey, cg))
        #expect(try good.request(Command.hello, ["adapter": "reli-1", "roles": ["agency"], "agency": "reli"]).1["code"] as? String == "forbidden")
        let other = try good.request(Command.hello, ["adapter": "chengguan-1", "roles": ["agency"], "agency": "reli"])
        #expect(other.1["code"] as? String == "forbidden" && (other.1["detail"] as? [String: Any])?["field"] as? String == "agency")
        #expect(try good.request(Command.hello, ["adapter": "chengguan-1", "roles": ["agency", "ops"], "agency": "chengguan"]).1["code"] as? String == "forbidden")
        _ = try good.hello(adapter: "chengguan-1", roles: ["agency"], agency: "chengguan")

        let unknown = try TestPeer(h.endpoint, name: "x", curve: (server.publicKey, stranger))
        try unknown.send(.hello, ["id": "h", "adapter": "chengguan-2", "roles": ["agency"], "agency": "chengguan"])
        #expect(try unknown.next(timeout: 1) == nil, "an unknown key is refused at the handshake")
        // The administrator revokes the key (peers.yaml edited, SIGHUP): its session is dropped.
        h.broker.reloadPeers([:])
        var revoked: String?
        let deadline = Date().addingTimeInterval(15)
        while revoked == nil, Date() < deadline {
            let r = try good.request(.query, ["what": "stats"], timeout: 5)
            revoked = r.1["code"] as? String
        }
        #expect(revoked == "not_registered", "a revoked key's session is gone")
        let plain = try TestPeer(h.endpoint, name: "plain")
        try plain.send(.hello, ["id": "h", "adapter": "chengguan-3", "roles": ["agency"], "agency": "chengguan"])
        #expect(try plain.next(timeout: 1) == nil, "no plain TCP when CURVE is on")
    }
}
