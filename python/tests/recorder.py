"""A Keras callback that writes the hooks Keras calls as a replay trace (DESIGN §5).

What ringboard.keras.TensorBoard hands the library for the same hooks: the parameters as it
passes them, the model's layers with the semantics' weight names, and the weights at every epoch
end (a `set_weights` line before `on_epoch_end`). Under semantics "keras3" also what the callback
reads from the model (python/src/ringboard/_keras3.py): the learning rates in the epoch-end logs,
the optimizer's iterations with `on_test_end`, and the model JSON only where Keras writes it.
"""

import importlib.util
import json
import os
import sys

import keras
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# Numbers as a trace carries them exactly, as the TF 2.0 reference model reads them back.
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tests", "Conformance"))
from keras_reference import json_float as number  # noqa: E402

# The callback's own reading of the model, loaded by path: the recorder runs where the ringboard
# package (and its native parts) may not be installed.
_spec = importlib.util.spec_from_file_location("ringboard_keras3", os.path.join(HERE, "..", "src", "ringboard", "_keras3.py"))
keras3 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keras3)


def logs_of(logs):
    return {str(name): number(value) for name, value in (logs or {}).items()}


class Recorder(keras.callbacks.Callback):
    def __init__(self, path, header):
        super().__init__()
        self.semantics = header.get("semantics", "tf2.0")
        self.file = open(path, "w")
        self.write(header)

    def write(self, line):
        self.file.write(json.dumps(line, allow_nan=False) + "\n")
        self.file.flush()

    def layers(self, model):
        layers = []
        for layer in model.layers:
            weights = []
            for variable in layer.weights:
                values = np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float32)
                name = keras3.weight_name(layer, variable, self.semantics == "keras3")
                weights.append({"name": name, "shape": list(values.shape),
                                "values": [number(v) for v in values.reshape(-1)]})
            layers.append({"name": layer.name, "class_name": type(layer).__name__, "weights": weights})
        return layers

    def set_params(self, params):
        super().set_params(params)
        given = {k: params[k] for k in ("batch_size", "epochs", "steps", "samples") if params.get(k) is not None}
        given["do_validation"] = bool(params.get("do_validation", True))
        given["metrics"] = [str(name) for name in params.get("metrics") or []]
        self.write({"hook": "set_params", "params": given})

    def set_model(self, model):
        super().set_model(model)
        description = {"name": model.name, "layers": self.layers(model), "json": model.to_json()}
        if self.semantics == "keras3" and not keras3.writes_model_summary(model):
            del description["json"]
        self.write({"hook": "set_model", "model": description})

    def on_train_begin(self, logs=None):
        self.write({"hook": "on_train_begin", "logs": logs_of(logs)})

    def on_train_end(self, logs=None):
        self.write({"hook": "on_train_end", "logs": logs_of(logs)})

    def close(self):
        self.file.close()

    def on_epoch_begin(self, epoch, logs=None):
        self.write({"hook": "on_epoch_begin", "epoch": epoch, "logs": logs_of(logs)})

    def on_epoch_end(self, epoch, logs=None):
        self.write({"hook": "set_weights", "layers": self.layers(self.model)})
        if self.semantics == "keras3" and logs:
            logs = keras3.learning_rates(self.model, dict(logs))
        self.write({"hook": "on_epoch_end", "epoch": epoch, "logs": logs_of(logs)})

    def on_train_batch_begin(self, batch, logs=None):
        self.write({"hook": "on_train_batch_begin", "batch": batch, "logs": logs_of(logs)})

    def on_train_batch_end(self, batch, logs=None):
        self.write({"hook": "on_train_batch_end", "batch": batch, "logs": logs_of(logs)})

    def on_test_begin(self, logs=None):
        self.write({"hook": "on_test_begin", "logs": logs_of(logs)})

    def on_test_end(self, logs=None):
        line = {"hook": "on_test_end", "logs": logs_of(logs)}
        if self.semantics == "keras3":
            line["iterations"] = keras3.iterations(self.model)
        self.write(line)

    def on_test_batch_begin(self, batch, logs=None):
        self.write({"hook": "on_test_batch_begin", "batch": batch, "logs": logs_of(logs)})

    def on_test_batch_end(self, batch, logs=None):
        self.write({"hook": "on_test_batch_end", "batch": batch, "logs": logs_of(logs)})

    def on_predict_begin(self, logs=None):
        self.write({"hook": "on_predict_begin", "logs": logs_of(logs)})

    def on_predict_end(self, logs=None):
        self.write({"hook": "on_predict_end", "logs": logs_of(logs)})

    def on_predict_batch_begin(self, batch, logs=None):
        self.write({"hook": "on_predict_batch_begin", "batch": batch, "logs": logs_of(logs)})

    def on_predict_batch_end(self, batch, logs=None):
        # Its logs hold the outputs (arrays), which the callback does not send.
        self.write({"hook": "on_predict_batch_end", "batch": batch, "logs": {}})
