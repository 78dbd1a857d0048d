import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// 智能派单: the pure model (features, training, confidence) and how SUBMIT uses it.
@Suite struct ClassifierTests {
    /// A small city of its own: three departments, five categories, a few examples each.
    static let routing = Routing(
        agencies: ["chengguan", "zhujian", "reli"].map { Routing.Agency(code: $0, name: $0) },
        categories: [
            Routing.Category(code: "manhole_cover", name: "井盖缺失破损", lead: "chengguan", keywords: ["井盖缺失"]),
            Routing.Category(code: "street_vending", name: "占道经营", lead: "chengguan", keywords: ["摆摊"]),
            Routing.Category(code: "road_collapse", name: "道路塌陷", lead: "zhujian", keywords: ["路面塌陷"]),
            Routing.Category(code: "heating_not_warm", name: "暖气不热", lead: "reli", keywords: ["暖气不热"]),
            Routing.Category(code: "heating_leak", name: "暖气漏水", lead: "reli", keywords: ["暖气漏水"]),
        ])
    static let examples: [(category: String, text: String)] = [
        ("manhole_cover", "路上的井盖丢了，晚上很危险"), ("manhole_cover", "井盖碎了，有人踩空"), ("manhole_cover", "下水井没有盖子"),
        ("street_vending", "小区门口有人摆地摊"), ("street_vending", "流动摊贩占着人行道卖水果"), ("street_vending", "烧烤摊摆到路边"),
        ("road_collapse", "马路中间塌了一个大坑"), ("road_collapse", "路面下陷开裂"), ("road_collapse", "地面突然塌了，下面是空的"),
        ("heating_not_warm", "家里暖气一点都不热"), ("heating_not_warm", "屋里温度太低，暖气片冰凉"),
        ("heating_leak", "暖气片滴水，地板泡了"), ("heating_leak", "暖气管接头漏水"),
    ]
    static let model = TextClassifier(routing: routing, examples: examples)
    static func rules(threshold: Double = 0.8) -> Rules {
        Rules(routing: routing, grids: Fixtures.grids, sla: Fixtures.sla, calendar: Fixtures.calendar, classifier: model, threshold: threshold)
    }

    @Test func featuresAreHanUniAndBigramsAndASCIIWords() {
        let f = Features.of("井盖丢了 LED灯")
        #expect(f.count == Set(f).count, "a set: each feature once")
        // 井 盖 丢 了 (4) + 井盖 盖丢 丢了 (3) + "led" + 灯 = 9; digits and spaces add nothing.
        #expect(f.count == 9)
        #expect(Features.of("LED") == Features.of("led") && Features.of("ＬＥＤ") == Features.of("led"), "case and width folded")
        #expect(Features.of("123 ，。!").isEmpty)
        #expect(Features.of("井盖") != Features.of("盖井"), "order matters in a bigram")
    }

    @Test func trainingIsDeterministicAndOrderFree() {
        let again = TextClassifier(routing: Self.routing, examples: Self.examples.reversed())
        #expect(again == Self.model, "the same examples in another order: the same model")
        for text in ["井盖丢了", "有人在路边摆摊卖菜", "路面突然塌陷", "暖气不热", "今天天气不错"] {
            #expect(Self.model.classify(text) == again.classify(text))
        }
        #expect(Self.model.categories == Self.model.categories.sorted())
        #expect(Self.model.exampleCounts["manhole_cover"] == 3 + 2, "examples plus name and keyword")
    }

    @Test func trainingConvergesAndFitsItsExamples() {
        let losses = Self.model.training.losses
        #expect(losses.count == Self.model.training.settings.epochs)
        #expect(zip(losses, losses.dropFirst()).allSatisfy { $1 <= $0 + 1e-9 }, "the loss falls epoch after epoch: \(losses)")
        #expect(losses.last! < losses.first! / 4 && losses.last! < 0.2, "\(losses)")
        // Every example trained on is classified as its own category.
        for e in Self.examples { #expect(Self.model.classify(e.text).first?.category == e.category, "\(e.text)") }
        // More regularisation, flatter confidences: λ is what keeps the model from certainty.
        let damped = TextClassifier(examples: Self.examples)
        let stiff = TextClassifier(examples: Self.examples, settings: .init(regularization: 0.05))
        #expect(stiff.classify("井盖丢了").first!.confidence < damped.classify("井盖丢了").first!.confidence)
    }

    @Test func otherSettingsOrSeedsGiveOtherModelsButTheSameSettingsTheSameOne() {
        let a = TextClassifier(examples: Self.examples, settings: .init(seed: 1))
        let b = TextClassifier(examples: Self.examples, settings: .init(seed: 1))
        let c = TextClassifier(examples: Self.examples, settings: .init(seed: 2))
        #expect(a == b && a != c)
        #expect(a.classify("井盖丢了").first?.category == c.classify("井盖丢了").first?.category, "the order of visits changes the weights, not the answer")
    }

    @Test func confidencesAreInZeroOneAndSumToOnePerDepartmentToo() {
        let leads = Dictionary(uniqueKeysWithValues: Self.routing.categories.values.map { ($0.code, $0.lead) })
        for text in ["小区门口的井盖丢了", "暖气", "路面突然塌陷，有人摆摊", "请帮忙看看", "家里暖气片滴水"] {
            let ranked = Self.model.classify(text)
            #expect(ranked.allSatisfy { (0...1).contains($0.confidence) }, "\(ranked)")
            var byLead: [String: Double] = [:]
            for s in ranked { byLead[leads[s.category]!, default: 0] += s.confidence }
            #expect(byLead.values.allSatisfy { (0...1.0005).contains($0) } && abs(byLead.values.reduce(0, +) - 1) < 0.01, "\(byLead)")
        }
    }

    @Test func confidencesAreSortedAndSumToOne() {
        let ranked = Self.model.classify("小区门口的井盖丢了，晚上有人差点掉下去")
        #expect(ranked.count == 5 && ranked.first?.category == "manhole_cover")
        #expect(zip(ranked, ranked.dropFirst()).allSatisfy { $0.confidence >= $1.confidence })
        #expect(abs(ranked.map(\.confidence).reduce(0, +) - 1) < 0.01)
        #expect(ranked.allSatisfy { (0...1).contains($0.confidence) })
        #expect(ranked[0].confidence > 0.8, "a plain 井盖 complaint is a sure thing")
    }

    @Test func aTextWithNothingKnownIsEvenlyUnsure() {
        let ranked = Self.model.classify("请帮忙看看")
        #expect(ranked.allSatisfy { $0.confidence == 0.2 }, "\(ranked)")
        #expect(Self.model.classify("").count == 5)
    }

    @Test func confidentTextsTakeTheirCategoryAndUnsureOnesGoToTriageWithThreeSuggestions() {
        let r = Self.rules()
        #expect(r.classify(category: nil, text: "井盖丢了") == Classification(category: "manhole_cover"))
        #expect(r.classify(category: nil, text: "路面突然塌陷") == Classification(category: "road_collapse"))
        let unsure = r.classify(category: nil, text: "请帮忙看看")
        #expect(unsure.category == Routing.unclassified && unsure.suggestions.count == 3)
        #expect(r.classify(category: "street_vending", text: "井盖丢了") == Classification(category: "street_vending"), "a given category wins")
    }

    @Test func theThresholdIsOnTheDepartment() {
        // 暖气 alone: sure it is 热力's, not which of its two categories; 热力's sum passes.
        let ranked = Self.model.classify("暖气")
        let reli = ranked.filter { $0.category.hasPrefix("heating") }.map(\.confidence).reduce(0, +)
        #expect(ranked[0].confidence < 0.8 && reli >= 0.8, "\(ranked)")
        #expect(Self.rules().classify(category: nil, text: "暖气").category == ranked[0].category)
        #expect(Self.rules(threshold: min(1, reli + 0.01)).classify(category: nil, text: "暖气").category == Routing.unclassified || reli >= 0.99)
    }

    @Test func aSubmitBelowTheThresholdWaitsInTriageWithTheSuggestionsRecorded() throws {
        var d = Driver(rules: Self.rules())
        let decision = d.ok(Fixtures.submit(nil, title: "请帮忙看看这个情况"), by: Fixtures.hotline)
        guard case .accepted(let id, let state, _, _) = decision.reply else { Issue.record("not accepted"); return }
        #expect(state == .triage && d.ledger.cases[id]?.category == Routing.unclassified)
        let triage = try #require(decision.facts.compactMap { f -> (String, [CategorySuggestion])? in
            if case .triage(let reason, let suggestions) = f.change { (reason, suggestions) } else { nil }
        }.first)
        #expect(triage.0 == "unclassified" && triage.1.count == 3)
        #expect(triage.1 == Array(Self.model.classify("请帮忙看看这个情况 ").prefix(3)))
    }

    @Test func aConfidentSubmitIsDispatchedToItsDepartment() {
        var d = Driver(rules: Self.rules())
        let c = d.newCase(Fixtures.submit(nil, title: "马路中间塌了个大坑"))
        #expect(d.ledger.cases[c]?.category == "road_collapse" && d.state(c) == .dispatched && d.lead(c)?.agency == "zhujian")
        let given = d.newCase(Fixtures.submit("street_vending", title: "马路中间塌了个大坑"))
        #expect(d.lead(given)?.agency == "chengguan", "the submitted category wins over the text")
        let returned = d.ok(Fixtures.giveBack(d.lead(given)!.dispatchID), by: Fixtures.agency("chengguan"))
        #expect(returned.facts.allSatisfy { if case .triage(_, let s) = $0.change { s.isEmpty } else { true } }, "a return has no suggestions")
    }

    @Test func withoutExamplesNamesAndKeywordsTrainIt() {
        let bare = TextClassifier(routing: Self.routing)
        #expect(bare.classify("井盖缺失").first?.category == "manhole_cover")
        #expect(bare.exampleCounts.values.reduce(0, +) == 10)
    }

    @Test func outOfScopeExamplesTrainAClassThatIsNeverDispatchedNorSuggested() {
        let none: [(category: String, text: String)] = [
            ("unclassified", "咨询公积金提取政策"), ("unclassified", "想问一下社保怎么补缴"), ("unclassified", "谢谢你们，问题解决了"),
            ("unclassified", "楼上邻居家的音响声音太大"), ("unclassified", "医保报销需要什么材料"),
        ]
        let model = TextClassifier(routing: Self.routing, examples: Self.examples + none)
        #expect(model.categories.contains(Routing.unclassified) && model.exampleCounts[Routing.unclassified] == 5)
        #expect(model.configExamples.count == Self.examples.count + 5)
        var r = Self.rules(); r.classifier = model
        for text in ["想咨询住房公积金提取政策", "社保补缴要什么材料"] {
            #expect(model.classify(text).first?.category == Routing.unclassified, "\(model.classify(text).prefix(3))")
            let c = r.classify(category: nil, text: text)
            #expect(c.category == Routing.unclassified && c.suggestions.count == 3, "\(c)")
            #expect(!c.suggestions.contains { $0.category == Routing.unclassified }, "never suggested")
        }
        #expect(r.classify(category: nil, text: "井盖丢了") == Classification(category: "manhole_cover"), "in scope still dispatched")
        var low = r; low.threshold = 0.01
        #expect(low.classify(category: nil, text: "想咨询住房公积金提取政策").category == Routing.unclassified, "whatever the threshold")
    }

    /// Training is at config load: 600 texts of 20 characters over 20 categories (the shipped
    /// size is ~880) train in well under a second even in a debug build.
    @Test func trainingIsQuick() {
        let words = Array("井盖丢了路面塌陷暖气不热停水积水摆摊违停噪音扬尘垃圾广告招牌打架小偷食品价格")
        let categories = (0..<20).map { "c\($0)" }
        var examples: [(category: String, text: String)] = []
        var x: UInt64 = 7
        for i in 0..<600 {
            var text = ""
            for _ in 0..<20 { x = x &* 6364136223846793005 &+ 1; text.append(words[Int(x >> 33) % words.count]) }
            examples.append((categories[i % 20], text))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let model = TextClassifier(examples: examples)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("training: \(seconds) s for 600 texts, \(model.categories.count) categories (debug build)")
    }
}
