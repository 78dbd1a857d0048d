import Foundation

extension TextClassifier {
    /// How the logistic regression is trained: stochastic gradient descent on the mean
    /// cross-entropy plus an L2 penalty, λ/2·‖w‖² (biases unpenalised), one example at a time.
    ///
    /// - Order: the examples are sorted (category, text) by `TextClassifier.init`, and each epoch
    ///   visits them in a Fisher–Yates permutation drawn from a 64-bit linear congruential
    ///   generator with a fixed seed: no randomness, the same examples give the same weights.
    /// - Step: η_t = η₀ / (1 + η₀·λ·t) (Bottou's schedule for L2-regularised SGD), t counting
    ///   the examples visited.
    /// - L2 without touching every weight: the weights are kept as s·v; each step multiplies the
    ///   scale s by (1 − η_t·λ) and adds the gradient to v divided by s, so a step costs the
    ///   example's features × categories, not the whole vocabulary (the scale is folded back into
    ///   v when it gets small, and at the end).
    /// - Feature values: 1/n^`lengthPower` for each of a text's n features, so a long text is not
    ///   a surer one by its length alone (0: plain binary features, 0.5: unit length).
    ///
    /// The settings (λ, epochs, η₀, the power) were chosen by 5-fold cross-validation on the
    /// training examples (`muster classify --cross-validate 5`; docs/CLASSIFIER.md).
    public struct Training: Sendable, Equatable {
        public struct Settings: Sendable, Equatable {
            /// λ, the L2 penalty.
            public var regularization: Double
            /// Passes over the examples.
            public var epochs: Int
            /// η₀, the first step.
            public var learningRate: Double
            /// The seed of the visiting order.
            public var seed: UInt64
            public init(regularization: Double = 1e-6, epochs: Int = 20, learningRate: Double = 2, seed: UInt64 = 12345) {
                self.regularization = regularization; self.epochs = epochs; self.learningRate = learningRate; self.seed = seed
            }
        }
        public let settings: Settings
        /// The mean cross-entropy of each epoch, each example's taken just before its own step:
        /// it falls as training converges (`ClassifierTests`).
        public let losses: [Double]

        /// Each feature of a text of n features is worth 1/n^lengthPower.
        static let lengthPower = 0.25
        @inline(__always) static func value(of n: Int) -> Double { 1 / pow(Double(n), lengthPower) }

        /// In place: z → softmax(z), shifted by the maximum so that exp never overflows.
        static func softmax(_ z: UnsafeMutableBufferPointer<Double>) {
            var top = -Double.infinity
            for v in z where v > top { top = v }
            var sum = 0.0
            var c = 0
            while c < z.count { z[c] = exp(z[c] - top); sum += z[c]; c += 1 }
            c = 0
            while c < z.count { z[c] /= sum; c += 1 }
        }

        /// `documents[i]`: the feature rows of example i (distinct); `labels[i]`: its class.
        /// Returns the weights (row-major, features × classes), the biases and the report.
        static func run(documents: [[Int32]], labels: [Int32], features: Int, classes k: Int,
                        settings: Settings) -> (weights: [Double], bias: [Double], report: Training) {
            // The documents end to end, so that the hot loop reads one buffer (`starts[i]..<starts[i+1]`).
            var flat: [Int32] = [], starts: [Int] = [0]
            flat.reserveCapacity(documents.reduce(0) { $0 + $1.count })
            for d in documents { flat += d; starts.append(flat.count) }
            var v = [Double](repeating: 0, count: features * k)
            var bias = [Double](repeating: 0, count: k)
            var z = [Double](repeating: 0, count: k)
            var scale = 1.0
            var state = settings.seed
            var order = Array(documents.indices)
            var losses: [Double] = []
            let lambda = settings.regularization, eta0 = settings.learningRate
            var t = 0.0
            v.withUnsafeMutableBufferPointer { w in
              bias.withUnsafeMutableBufferPointer { b in
                z.withUnsafeMutableBufferPointer { z in
                  flat.withUnsafeBufferPointer { flat in
                    labels.withUnsafeBufferPointer { labels in
                        for _ in 0..<settings.epochs {
                            var i = order.count - 1
                            while i > 0 {               // Fisher–Yates, from the fixed-seed LCG
                                state = state &* 6364136223846793005 &+ 1442695040888963407
                                let j = Int((state >> 33) % UInt64(i + 1))
                                order.swapAt(i, j)
                                i -= 1
                            }
                            var loss = 0.0
                            for n in order {
                                let from = starts[n], to = starts[n + 1], y = Int(labels[n])
                                let x = to == from ? 0 : value(of: to - from)
                                let eta = eta0 / (1 + eta0 * lambda * t)
                                t += 1
                                var c = 0
                                while c < k { z[c] = 0; c += 1 }
                                var f = from
                                while f < to {
                                    let base = Int(flat[f]) * k
                                    c = 0
                                    while c < k { z[c] += w[base + c]; c += 1 }
                                    f += 1
                                }
                                c = 0
                                while c < k { z[c] = scale * x * z[c] + b[c]; c += 1 }
                                softmax(z)
                                loss -= log(max(z[y], .leastNormalMagnitude))
                                z[y] -= 1                       // z is now the gradient of the loss in the logits
                                scale *= 1 - eta * lambda
                                let step = eta * x / scale
                                f = from
                                while f < to {
                                    let base = Int(flat[f]) * k
                                    c = 0
                                    while c < k { w[base + c] -= step * z[c]; c += 1 }
                                    f += 1
                                }
                                c = 0
                                while c < k { b[c] -= eta * z[c]; c += 1 }
                                if scale < 1e-6 {
                                    for q in w.indices { w[q] *= scale }
                                    scale = 1
                                }
                            }
                            losses.append(order.isEmpty ? 0 : loss / Double(order.count))
                        }
                        for q in w.indices { w[q] *= scale }
                    }
                  }
                }
              }
            }
            return (v, bias, Training(settings: settings, losses: losses))
        }
    }
}
