// Replay traces (JSON lines) with arbitrary contents, as `ringboard replay` checks them before
// anything is written: wrong types, huge numbers, deep nesting, invalid UTF-8. A trace is accepted
// or refused with a line number inside the input; a crash, a trap or a hang is a bug.
import FuzzSupport
import Ringboard

let seeds: [String: String] = [
    "minimal": #"{"tensorboard": {"log_dir": "run"}}"#,
    "training": """
        {"tensorboard": {"log_dir": "run", "histogram_freq": 1, "write_images": true, "update_freq": 64, "profile_batch": 2, "embeddings_freq": 1, "embeddings_metadata": {"embedding": "words.tsv"}}, "rank": 0, "world_size": 2, "rank_policy": "mean"}
        {"hook": "set_params", "params": {"batch_size": 32, "epochs": 2, "steps": 10, "samples": 320, "do_validation": true, "metrics": ["loss", "val_loss"]}}
        {"hook": "set_model", "model": {"name": "m", "graph_def": "CgN4eXo=", "json": {"class_name": "Sequential"}, "layers": [{"name": "embedding", "class_name": "Embedding", "config": {"input_dim": 3}, "weights": [{"name": "embedding/embeddings:0", "shape": [3, 2], "values": [1, 2, 3, 4, 5, "NaN"]}]}]}}
        {"hook": "on_train_begin", "logs": null}
        {"hook": "on_epoch_begin", "epoch": 0}
        {"hook": "on_train_batch_end", "batch": 0, "logs": {"batch": 0, "size": 32, "loss": 0.69}}
        {"hook": "set_weights", "layers": [{"name": "embedding", "weights": [{"name": "embedding/embeddings:0", "shape": [3, 2], "values": [1, 2, 3, 4, 5, "-Infinity"]}]}]}
        {"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 0.5, "val_loss": "Infinity"}}
        {"hook": "on_test_batch_end", "batch": 1, "logs": {}}
        {"hook": "on_train_end"}
        """,
    "bad-line": """
        {"tensorboard": {"log_dir": "run", "update_freq": "batch"}}
        {"hook": "on_train_batch_end", "batch": "one", "logs": {"loss": 0.4}}
        """,
]

runFuzzer(writeSeeds: { directory in
    for (name, text) in seeds { writeFile(directory + "/" + name + ".jsonl", Array(text.utf8)) }
}) { input in
    let lineCount = input.reduce(1) { $0 + ($1 == 0x0a ? 1 : 0) }
    do throws(ReplayTrace.LineError) {
        _ = try ReplayTrace(bytes: Array(input))
    } catch {
        precondition(error.line >= 1 && error.line <= lineCount, "line \(error.line) of \(lineCount)")
    }
}
