import Foundation
import Logging

/// A run's model as `set_model` described it, with the latest weight values `set_weights` sent.
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
        var values: [Float]
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
                      return Weight(name: name, shape: shape, values: [Float](repeating: 0, count: count ?? 0))
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
        var remaining = number
        for layerIndex in layers.indices {
            let count = layers[layerIndex].weights.count
            if remaining < count {
                let target = layers[layerIndex].weights[remaining].values.count
                guard offset >= 0, offset <= target, values.count <= target - offset else { return false }
                layers[layerIndex].weights[remaining].values.replaceSubrange(offset..<(offset + values.count), with: values)
                return true
            }
            remaining -= count
        }
        return false
    }
}
