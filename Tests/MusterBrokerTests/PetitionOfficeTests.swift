import Foundation
@testable import PetitionOffice
import MusterWire
import Testing

/// The petition office adapter's pure parts: a registration form's shape and the SUBMIT it makes,
/// the broker's field names mapped back to the form's, the acts' ids. Over HTTP against a real
/// broker, with kill -9: integration/test_petition.py.
@Suite struct PetitionOfficeTests {
    static func form(_ over: [String: Any] = [:]) -> [UInt8] {
        var o: [String: Any] = ["petition_no": "XF-2026-0001", "received_at": "2026-12-02T09:30:00+08:00", "channel": "来信",
                                "content": "反映某执法人员作风粗暴", "about": ["chengguan"], "grid": "zz/erqi/jiefanglu",
                                "petitioner": ["name": "王五", "phone": "13812345678", "id_number": "11010519491231002X"]]
        for (k, v) in over { o[k] = v }
        return Array(try! JSONSerialization.data(withJSONObject: o))
    }

    static func refusal(_ over: [String: Any]) -> PetitionForm.Refusal? {
        do { _ = try PetitionForm.parse(form(over)); return nil } catch { return error }
    }

    @Test func aFormBecomesThePetitionsSubmit() throws {
        let f = try PetitionForm.parse(Self.form())
        let c = try #require(try JSONSerialization.jsonObject(with: Data(f.submittedCase())) as? [String: Any])
        #expect(c["source"] as? String == "petition" && c["external_ref"] as? String == "XF-2026-0001")
        #expect(c["reporter"] as? [String: String] == ["name": "王五", "phone": "13812345678", "id_number": "11010519491231002X"])
        #expect((c["petition"] as? [String: Any])?["about"] as? [String] == ["chengguan"])
        #expect((c["xf"] as? [String: String]) == ["channel": "来信"] && c["title"] as? String == "反映某执法人员作风粗暴")
        let anonymous = try PetitionForm.parse(Self.form(["petitioner": ["anonymous": true, "name": "不留名"]]))
        let a = try #require(try JSONSerialization.jsonObject(with: Data(anonymous.submittedCase())) as? [String: Any])
        #expect(a["reporter"] as? [String: Bool] == ["anonymous": true], "an anonymous petitioner's name goes nowhere")
    }

    @Test func aBadFormNamesItsMember() {
        let cases: [([String: Any], String)] = [
            (["content": " "], "content"), (["channel": "托人"], "channel"), (["petition_no": "XF 1"], "petition_no"),
            (["about": "chengguan"], "about"), (["about": [1]], "about[0]"), (["petitioner": NSNull()], "petitioner"),
            (["petitioner": ["phone": "138"]], "petitioner.name"), (["petitioner": ["name": "王", "身份证": "1"]], "petitioner.身份证"),
            (["petitioner": ["name": "王", "anonymous": "yes"]], "petitioner.anonymous"), (["colour": "red"], "colour"),
            (["attachments": [["sha256": "ab"]]], "attachments[0].url"), (["received_at": NSNull()], "received_at"),
        ]
        for (over, field) in cases {
            #expect(Self.refusal(over)?.field == field, "\(over)")
        }
        #expect(Self.refusal([:]) == nil)
        #expect(PetitionForm.formField("case.reporter.id_number") == "petitioner.id_number")
        #expect(PetitionForm.formField("case.petition.about[0]") == "about[0]" && PetitionForm.formField("case.location.grid") == "grid")
    }

    @Test func anActsIdIsWhatMakesIt() {
        let body = Array(#"{"title":"x"}"#.utf8)
        #expect(PetitionOffice.actID("xf-", ["XF1"], body) == PetitionOffice.actID("xf-", ["XF1"], body))
        #expect(PetitionOffice.actID("xf-", ["XF1"], body) != PetitionOffice.actID("xf-", ["XF2"], body))
        #expect(PetitionOffice.actID("xf-", ["XF1"], body) != PetitionOffice.actID("xf-", ["XF1"], body + [32]), "a corrected form is a new request")
        #expect(PetitionOffice.actID("xfa-", ["XF1", "a", "b"]) != PetitionOffice.actID("xfa-", ["XF1", "ab", ""]), "parts are kept apart")
        #expect(PetitionOffice.kinds["答复意见书"] == .reply && PetitionOffice.kinds["review"] == .review)
    }
}
