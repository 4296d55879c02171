import Foundation
import Logging

/// A run's model as `set_model` described it, with the latest weight values the trainer sent
/// (in records, or in weight segments read in place: `WeightValues`).
struct RunModel {
    var name: String
    var layers: [Layer]
    /// `model.to_json()`, when the producer gave it.
    var modelJSON: String?
    /// The GraphDef the producer gave (empty: none).
    var graphDef: [UInt8]

    struct Layer {
        var name: String
        var className: String
        var configJSON: String?
        var weights: [Weight]
    }

    struct Weight {
        var name: String
        var shape: [Int]
        var values: WeightValues
    }

    /// The model a `set_model` record's JSON describes, every weight zero until its values come;
    /// `nil` (reported) when the JSON is not an object.
    init?(json: String, graphDef: [UInt8], run: String, logger: Logger) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            logger.error("model description is not a JSON object", metadata: ["run": "\(run)"])
            return nil
        }
        name = object["name"] as? String ?? "model"
        modelJSON = object["model_json"] as? String
        self.graphDef = graphDef
        layers = (object["layers"] as? [[String: Any]] ?? []).map { layer in
            Layer(name: layer["name"] as? String ?? "", className: layer["class_name"] as? String ?? "",
                  configJSON: layer["config_json"] as? String,
                  weights: (layer["weights"] as? [[String: Any]] ?? []).map { weight in
                      let name = weight["name"] as? String ?? "", shape = weight["shape"] as? [Int] ?? []
                      // A record could announce any shape: one too large to hold is kept without values.
                      let count = RecordLimits.valueCount(shape)
                      if count == nil {
                          logger.error("weight shape is negative or too large to hold: its values are dropped", metadata: [
                              "run": "\(run)", "weight": "\(name)", "shape": "\(shape)"])
                      }
                      return Weight(name: name, shape: shape, values: .owned([Float](repeating: 0, count: count ?? 0)))
                  })
        }
    }

    init(name: String, layers: [Layer], modelJSON: String?, graphDef: [UInt8]) {
        self.name = name
        self.layers = layers
        self.modelJSON = modelJSON
        self.graphDef = graphDef
    }

    /// Sets `values.count` values of weight `number` (counting every layer's weights in order)
    /// from `offset`.
    ///
    /// - Returns: Whether they fit the weight (else nothing changes).
    mutating func setValues(weight number: Int, offset: Int, _ values: [Float]) -> Bool {
        guard let (layer, slot) = position(ofWeight: number) else { return false }
        let target = layers[layer].weights[slot].values.count
        guard offset >= 0, offset <= target, values.count <= target - offset else { return false }
        layers[layer].weights[slot].values.update { $0.replaceSubrange(offset..<(offset + values.count), with: values) }
        return true
    }

    /// Sets every value of weight `number` at once (values mapped in a weight segment).
    ///
    /// - Returns: Whether they are as many as the weight holds (else nothing changes).
    mutating func setValues(weight number: Int, _ values: WeightValues) -> Bool {
        guard let (layer, slot) = position(ofWeight: number), layers[layer].weights[slot].values.count == values.count else { return false }
        layers[layer].weights[slot].values = values
        return true
    }

    /// The layer and the place in it of weight `number`, counting every layer's weights in order.
    private func position(ofWeight number: Int) -> (layer: Int, slot: Int)? {
        guard number >= 0 else { return nil }
        var remaining = number
        for layerIndex in layers.indices {
            let count = layers[layerIndex].weights.count
            if remaining < count { return (layerIndex, remaining) }
            remaining -= count
        }
        return nil
    }

    /// The file names of the weight segments its values are mapped from.
    var segmentFileNames: Set<String> {
        var names: Set<String> = []
        for layer in layers {
            for weight in layer.weights { if let segment = weight.values.segment { names.insert(segment.fileName) } }
        }
        return names
    }
}
