import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing
import RingboardSummaries

@Suite struct LayerGraphTests {
    static func parsed(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func aNodePerLayerWithItsClassAndInputs() throws {
        let graph = LayerGraph.graphDef(LayerGraph.sequential([(name: "a", className: "A"), (name: "b", className: "B")]))
        let classA = "2a12" + "0a0b" + "6b657261735f636c617373" + "1203120141"  // attr { key: "keras_class" value { s: "A" } }
        let classB = "2a12" + "0a0b" + "6b657261735f636c617373" + "1203120142"
        #expect(graph == bytes(hex: "0a1a" + "0a0161" + "120141" + classA  // node { name: "a" op: "A" attr }
            + "0a1d" + "0a0162" + "120142" + "1a0161" + classB))  // node { name: "b" op: "B" input: "a" attr }
        #expect(try GraphDefCheck.nodeCount(in: graph) == 2)
    }

    @Test func aSequentialModelJSONChainsItsLayers() throws {
        let model = try Self.parsed("""
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "InputLayer", "config": {"name": "input"}},
              {"class_name": "Dense", "config": {"name": "d1"}, "inbound_nodes": [[["elsewhere", 0, 0, {}]]]},
              {"class_name": "Dense", "config": {"name": "d2"}}]}}
            """)
        #expect(LayerGraph.layers(modelJSON: model) == [
            LayerGraph.Layer(name: "input", className: "InputLayer"),
            LayerGraph.Layer(name: "d1", className: "Dense", inboundLayers: ["input"]),
            LayerGraph.Layer(name: "d2", className: "Dense", inboundLayers: ["d1"]),
        ])
    }

    /// TF 2.0 (`tf.keras`, Keras 2) writes inbound nodes as lists of `[name, node, tensor, kwargs]`.
    @Test func aFunctionalModelJSONOfTF20() throws {
        let model = try Self.parsed("""
            {"class_name": "Model", "config": {"name": "m", "layers": [
              {"class_name": "InputLayer", "name": "x", "config": {"name": "x"}, "inbound_nodes": []},
              {"class_name": "InputLayer", "name": "y", "config": {"name": "y"}, "inbound_nodes": []},
              {"class_name": "Add", "name": "sum", "config": {"name": "sum"}, "inbound_nodes": [[["x", 0, 0, {}], ["y", 0, 0, {}]]]},
              {"class_name": "Dense", "name": "out", "config": {"name": "out"}, "inbound_nodes": [[["sum", 0, 0, {}]], [["x", 0, 0, {}]]]}]}}
            """)
        #expect(LayerGraph.layers(modelJSON: model) == [
            LayerGraph.Layer(name: "x", className: "InputLayer"),
            LayerGraph.Layer(name: "y", className: "InputLayer"),
            LayerGraph.Layer(name: "sum", className: "Add", inboundLayers: ["x", "y"]),
            LayerGraph.Layer(name: "out", className: "Dense", inboundLayers: ["sum", "x"]),
        ])
    }

    /// Keras 3 writes each inbound node as the call's arguments, tensors carrying `keras_history`.
    @Test func aFunctionalModelJSONOfKeras3() throws {
        let tensor = { (name: String) in
            #"{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["\#(name)", 0, 0]}}"#
        }
        let model = try Self.parsed("""
            {"class_name": "Functional", "config": {"name": "m", "layers": [
              {"class_name": "InputLayer", "name": "x", "config": {"name": "x"}, "inbound_nodes": []},
              {"class_name": "InputLayer", "name": "y", "config": {"name": "y"}, "inbound_nodes": []},
              {"class_name": "Concatenate", "name": "cat", "config": {"name": "cat"},
               "inbound_nodes": [{"args": [[\(tensor("x")), \(tensor("y"))]], "kwargs": {}}]},
              {"class_name": "Dense", "name": "out", "config": {"name": "out"},
               "inbound_nodes": [{"args": [\(tensor("cat"))], "kwargs": {"mask": \(tensor("y"))}}]}]}}
            """)
        #expect(LayerGraph.layers(modelJSON: model)?.map(\.inboundLayers) == [[], [], ["x", "y"], ["cat", "y"]])
    }

    @Test func aJSONWithoutLayersGivesNothing() throws {
        #expect(LayerGraph.layers(modelJSON: try Self.parsed(#"{"class_name": "Sequential", "config": {"name": "s"}}"#)) == nil)
        #expect(LayerGraph.layers(modelJSON: [:]) == nil)
    }

    /// Names are unique and not empty, and every input names a node of the graph.
    @Test func namesAreMadeUniqueAndDanglingInputsLeftOut() throws {
        let graph = LayerGraph.graphDef([
            LayerGraph.Layer(name: "d", className: "Dense"),
            LayerGraph.Layer(name: "d", className: "Dense", inboundLayers: ["d", "missing"]),
            LayerGraph.Layer(name: "", className: "Dropout", inboundLayers: ["d"]),
        ])
        #expect(try GraphDefCheck.nodeCount(in: graph) == 3)
        let text = String(decoding: graph, as: UTF8.self)
        #expect(text.contains("d_1") && text.contains("layer_2") && !text.contains("missing"))
    }
}
