import Foundation
import Testing
@testable import MusterConfig
@testable import MusterCore

/// 智能派单's config: muster.yaml `classifier` and the examples in config/classifier/, checked
/// strictly like the rest — every problem with file, line and key, and nothing loaded.
@Suite struct ClassifierConfigTests {
    static func lineOf(_ needle: String, in url: URL) throws -> Int {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) }) + 1
    }

    @Test func theShippedExamplesCoverEveryCategoryAndTrainTheBrokersModel() throws {
        let c = try BrokerConfig.load(ConfigTests.shipped.appendingPathComponent("muster.yaml").path, insecure: true)
        #expect(c.rules.threshold == 0.55)
        for code in c.rules.routing.categories.keys {
            #expect((c.rules.classifier.exampleCounts[code] ?? 0) >= 20, "\(code) has tens of examples")
        }
        #expect(c.rules.classify(category: nil, text: "井盖丢了").category == "manhole_cover")
        #expect(c.rules.classify(category: nil, text: "路面突然塌陷").category == "road_collapse")
        #expect(c.rules.classify(category: nil, text: "摆地摊").category == "street_vending")
        #expect(c.files.last?.hasSuffix("classifier") == true, "check-config lists the folder")
        // Out of scope (config/classifier/unclassified.yaml): triage, never a department.
        #expect((c.rules.classifier.exampleCounts[Routing.unclassified] ?? 0) >= 60)
        for text in ["楼下广场舞音响声音太大", "想咨询住房公积金提取政策"] {
            #expect(c.rules.classify(category: nil, text: text).category == Routing.unclassified, "\(text)")
        }
        // Trained at load; the time is printed, not asserted (speed is measured, not tested).
        let examples = c.rules.classifier.configExamples
        let start = DispatchTime.now().uptimeNanoseconds
        let again = TextClassifier(routing: c.rules.routing, examples: examples)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("training the shipped model: \(seconds) s, \(examples.count) examples (debug build)")
        #expect(again == c.rules.classifier, "the same config, the same model")
        let losses = c.rules.classifier.training.losses
        #expect(losses.last! < losses.first! / 4, "training converges: \(losses)")
    }

    @Test func anUnknownCategoryIsLocated() throws {
        let dir = try ConfigTests.copy(editing: "classifier/chengguan.yaml") { $0.replacingOccurrences(of: "\nmanhole_cover:", with: "\nmanhole_covr:") }
        let e = try #require(ConfigTests.errors(dir).first)
        #expect(e.file.hasSuffix("classifier/chengguan.yaml") && e.key == "manhole_covr")
        #expect(e.message.contains("unknown category") && e.message.contains("manhole_cover"), "\(e.message)")
        #expect(e.line == (try Self.lineOf("manhole_covr:", in: dir.appendingPathComponent("classifier/chengguan.yaml"))))
    }

    @Test func anEmptyExampleIsLocated() throws {
        let dir = try ConfigTests.copy(editing: "classifier/reli.yaml") {
            $0.replacingOccurrences(of: "  - 暖气管接头在往外冒热水\n", with: "  - 暖气管接头在往外冒热水\n  - \"  ，。 \"\n")
        }
        let errs = ConfigTests.errors(dir)
        #expect(errs.count == 1)
        let e = try #require(errs.first)
        #expect(e.file.hasSuffix("reli.yaml") && e.key == "heating_leak[2]" && e.message.contains("needs words"), "\(e)")
        #expect(e.line == (try Self.lineOf("\"  ，。 \"", in: dir.appendingPathComponent("classifier/reli.yaml"))))
    }

    @Test func aWrongShapeIsLocated() throws {
        let dir = try ConfigTests.copy(editing: "classifier/gongan.yaml") { $0.replacingOccurrences(of: "\npublic_order:\n", with: "\npublic_order: 打架\nx_order:\n") }
        let e = try #require(ConfigTests.errors(dir).first)
        #expect(e.file.hasSuffix("gongan.yaml") && e.key == "public_order" && e.message.contains("wrong type"), "\(e)")
    }

    @Test func theThresholdMustBeAConfidence() throws {
        for bad in ["0", "1.5", "-0.2"] {
            let dir = try ConfigTests.copy(editing: "muster.yaml") { $0.replacingOccurrences(of: "threshold: 0.55 ", with: "threshold: \(bad) ") }
            let errs = ConfigTests.errors(dir)
            let e = try #require(errs.first, "threshold \(bad) was taken")
            #expect(errs.count == 1 && e.file.hasSuffix("muster.yaml") && e.key == "classifier.threshold" && e.message.contains("(0, 1]"))
            #expect(e.line == (try Self.lineOf("threshold: \(bad)", in: dir.appendingPathComponent("muster.yaml"))))
        }
    }

    @Test func anUnknownKeyAndAMissingFolderAreLocated() throws {
        let typo = try ConfigTests.copy(editing: "muster.yaml") { $0.replacingOccurrences(of: "  threshold: 0.55 ", with: "  treshold: 0.55 ") }
        let e = try #require(ConfigTests.errors(typo).first)
        #expect(e.key == "classifier.treshold" && e.message.contains("threshold"), "\(e)")
        let missing = try ConfigTests.copy(editing: "muster.yaml") { $0.replacingOccurrences(of: "examples: classifier ", with: "examples: classifiers ") }
        let m = try #require(ConfigTests.errors(missing).first)
        #expect(m.key == "classifier.examples" && m.message.contains("does not exist") && m.file.hasSuffix("muster.yaml"), "\(m)")
    }
}
