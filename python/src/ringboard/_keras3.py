"""What Keras 3's `keras.callbacks.TensorBoard` reads from the model, read the same way.

Under `semantics="keras3"` the callback sends these with the hooks, since the aggregator cannot
look at the model: the learning rates appended to the epoch-end logs, the optimizer's iterations
with the test-end hook, and whether the model is one whose JSON Keras writes as the graph.
It imports only Keras, so the conformance recorder can load it by path.
"""

import keras
from keras import ops


def learning_rates(model, logs):
    """`logs` with the learning rates Keras 3's `_collect_learning_rate` appends."""
    optimizer = model.optimizer
    if hasattr(optimizer, "inner_optimizer"):
        optimizer = optimizer.inner_optimizer
    if hasattr(optimizer, "optimizers"):
        for inner in optimizer.optimizers:
            logs[f"learning_rate_{inner.name}"] = float(ops.convert_to_numpy(inner.learning_rate))
    elif isinstance(optimizer, keras.optimizers.Optimizer):
        logs["learning_rate"] = float(ops.convert_to_numpy(optimizer.learning_rate))
    return logs


# The test-end hook's index when the model has no optimizer: no evaluation summaries.
NO_ITERATIONS = -1


def iterations(model):
    """`model.optimizer.iterations`, the step of Keras 3's `evaluation_<name>_vs_iterations`."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer and hasattr(optimizer, "iterations"):
        return int(ops.convert_to_numpy(optimizer.iterations))
    return NO_ITERATIONS


def writes_model_summary(model):
    """Whether Keras 3 writes the model's JSON (tag `keras`): Functional and Sequential only."""
    return type(model).__name__ in ("Functional", "Sequential")


def weight_name(layer, variable, keras3):
    """A weight's name as each callback tags it: Keras 3 by `variable.path`
    (`sequential/dense/kernel`), TF 2.0 in the layer's name scope (`dense/kernel:0`)."""
    return variable.path if keras3 else f"{layer.name}/{variable.name}:0"
