import Foundation
import RingboardTestSupport
import Testing

/// `ringboard demo` with several trainer processes, read back by the real TensorBoard.
@Suite struct DemoTests {
    @Test func theDemosLogsOpenInTensorBoard() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let directory = TemporaryDirectory("ringboard-demo")
        let logdir = directory.appending("logs")
        let demo = try run(productsDirectory + "/ringboard", ["demo", "--logdir", logdir, "--procs", "2", "--epochs", "2", "--steps", "6"], timeout: 300)
        #expect(demo.status == 0, "\(demo.standardOutput)\n\(demo.standardError)")
        #expect(demo.standardOutput.contains("epoch 2/2:"))
        #expect(demo.standardOutput.contains("Open it with: .venv/bin/tensorboard --logdir \(logdir)"))
        let script = """
            import os, sys
            from google.protobuf import text_format
            from tensorboard.backend.event_processing import event_accumulator as ea
            from tensorboard.plugins.projector import projector_plugin
            from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
            root = sys.argv[1]
            for rank in ("rank_0", "rank_1"):
                acc = ea.EventAccumulator(os.path.join(root, rank, "train"), size_guidance={k: 0 for k in ("scalars", "histograms", "images", "tensors")})
                acc.Reload()
                tags = acc.Tags()
                assert len(acc.Scalars("batch_loss")) == 12, tags
                assert [e.step for e in acc.Scalars("epoch_loss")] == [192, 384]
                assert sorted(tags["histograms"]) == ["dense/bias_0", "dense/kernel_0", "embedding/embeddings_0"], tags
                assert "embedding/embeddings_0/image/0" in tags["images"], tags
                assert "keras" in tags["tensors"], tags
                graph = acc.Graph()  # the op graph of the layers, each taking the one before
                assert [(n.name, n.op, list(n.input)) for n in graph.node] == [
                    ("embedding", "Embedding", []), ("global_average_pooling1d", "GlobalAveragePooling1D", ["embedding"]),
                    ("dense", "Dense", ["global_average_pooling1d"])], graph
                assert graph.node[2].attr["keras_class"].s == b"Dense", graph
                assert [e.step for e in ea.EventAccumulator(os.path.join(root, rank, "validation")).Reload().Scalars("epoch_accuracy")] == [192, 384]
                config = ProjectorConfig()
                text_format.Parse(open(os.path.join(root, rank, "projector_config.pbtxt")).read(), config)
                embedding = config.embeddings[0]
                assert embedding.tensor_name == "embedding/embeddings:0", config
                values = projector_plugin._read_tensor_tsv_file(os.path.join(root, rank, embedding.tensor_path))
                assert values.shape == (24, 8), values.shape
            # TensorBoard started on the log_dir, the parent of the ranks' directories: its
            # projector finds each rank's embeddings under the rank's train run, and serves them.
            import struct, time, urllib.parse
            sys.path.insert(0, sys.argv[2])
            import tensorboard_check
            server = tensorboard_check.TensorBoardServer(root, {"scalars": 1000})
            problem = server.start(time.monotonic() + 60)
            assert problem is None, problem
            try:
                runs = server.get_json("/data/plugin/projector/runs")
                assert sorted(runs) == ["rank_0/train", "rank_1/train"], runs
                for run in runs:
                    info = server.get_json("/data/plugin/projector/info", run=run)
                    assert [(e["tensorName"], e["tensorShape"]) for e in info["embeddings"]] == [("embedding/embeddings", [24, 8])], info
                    query = urllib.parse.urlencode({"run": run, "name": "embedding/embeddings", "num_rows": 24})
                    served = struct.unpack("<192f", server.get("/data/plugin/projector/tensor?" + query))
                    tsv = projector_plugin._read_tensor_tsv_file(os.path.join(root, run, "embedding_embeddings_0.tsv"))
                    assert list(served) == [float(v) for v in tsv.flatten()], run
            finally:
                server.stop()
            print("ok")
            """
        let check = try run(venvPython, ["-c", script, logdir, packageRoot + "/Tests/Conformance"], timeout: 180)
        #expect(check.status == 0, "\(check.standardOutput)\n\(check.standardError)")
    }
}
