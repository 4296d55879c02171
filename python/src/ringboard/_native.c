/*
 * ringboard._native: the CPython binding of libringboard.so (ringboard.h).
 *
 * Two types: Run, a callback run, and Writer, a SummaryWriter. The batch hooks are the hot path: a logs dict is turned into
 * (metric number, value) pairs in fixed buffers, names looked up in a per-run dict of already
 * numbered names, and handed to ringboard_hook without allocating (after the first batch).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "ringboard.h"

/* Logs of at most this many metrics take the stack buffers; larger ones are allocated. */
#define INLINE_METRICS 32

static PyObject *RingboardError;

typedef struct {
    PyObject_HEAD
    ringboard_run *run;
    /* Metric name (str) -> number (int), for names already numbered. */
    PyObject *numbers;
} RunObject;

static PyObject *raise_status(ringboard_status status) {
    const char *message = ringboard_last_error();
    switch (status) {
    case RINGBOARD_INVALID_ARGUMENT:
        PyErr_SetString(PyExc_ValueError, message);
        break;
    default:
        PyErr_SetString(RingboardError, message);
        break;
    }
    return NULL;
}

static int check_open(RunObject *self) {
    if (self->run == NULL) {
        PyErr_SetString(PyExc_ValueError, "the run is closed");
        return -1;
    }
    return 0;
}

/* A str argument that may be None: NULL for None. */
static int optional_string(PyObject *object, const char **out, const char *name) {
    if (object == Py_None) {
        *out = NULL;
        return 0;
    }
    if (!PyUnicode_Check(object)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str or None, not %.100s", name, Py_TYPE(object)->tp_name);
        return -1;
    }
    Py_ssize_t size;
    *out = PyUnicode_AsUTF8AndSize(object, &size);
    if (*out == NULL) return -1;
    if ((Py_ssize_t)strlen(*out) != size) {
        PyErr_Format(PyExc_ValueError, "%s: embedded null character", name);
        return -1;
    }
    return 0;
}

/* --- Run(...) ------------------------------------------------------------------------------- */

static int Run_init(RunObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {
        "log_dir", "histogram_freq", "write_graph", "write_images", "update_freq", "update_freq_samples",
        "profile_batch", "embeddings_freq", "embeddings_metadata", "rank", "world_size", "rank_policy",
        "ring_directory", "aggregator_executable", "start_aggregator", "semantics", NULL,
    };
    PyObject *log_dir, *metadata = Py_None, *ring_directory = Py_None, *executable = Py_None;
    long long histogram_freq = 0, update_freq_samples = 0, profile_batch = 2, embeddings_freq = 0;
    int write_graph = 1, write_images = 0, update_freq = 0, rank = 0, world_size = 1, rank_policy = 0, start = 1;
    int semantics = RINGBOARD_SEMANTICS_TF20;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|LppiLLLOiiiOOpi", keywords, &log_dir, &histogram_freq,
                                     &write_graph, &write_images, &update_freq, &update_freq_samples,
                                     &profile_batch, &embeddings_freq, &metadata, &rank, &world_size,
                                     &rank_policy, &ring_directory, &executable, &start, &semantics)) {
        return -1;
    }
    if (self->run != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Run is initialised once");
        return -1;
    }
    ringboard_options options = ringboard_options_default();
    if (optional_string(log_dir, &options.log_dir, "log_dir") < 0 ||
        optional_string(ring_directory, &options.ring_directory, "ring_directory") < 0 ||
        optional_string(executable, &options.aggregator_executable, "aggregator_executable") < 0) {
        return -1;
    }
    options.histogram_freq = histogram_freq;
    options.write_graph = write_graph;
    options.write_images = write_images;
    options.update_freq = (ringboard_update_freq)update_freq;
    options.update_freq_samples = update_freq_samples;
    options.profile_batch = profile_batch;
    options.embeddings_freq = embeddings_freq;
    options.rank = rank;
    options.world_size = world_size;
    options.rank_policy = (ringboard_rank_policy)rank_policy;
    options.start_aggregator = start;
    options.semantics = (ringboard_semantics)semantics;

    const char **layers = NULL, **files = NULL;
    int result = -1;
    if (PyUnicode_Check(metadata)) {
        if ((options.embeddings_metadata = PyUnicode_AsUTF8(metadata)) == NULL) return -1;
    } else if (PyDict_Check(metadata)) {
        Py_ssize_t count = PyDict_Size(metadata), position = 0, k = 0;
        layers = PyMem_Calloc((size_t)count + 1, sizeof *layers);
        files = PyMem_Calloc((size_t)count + 1, sizeof *files);
        if (layers == NULL || files == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        PyObject *key, *value;
        while (PyDict_Next(metadata, &position, &key, &value)) {
            if (!PyUnicode_Check(key) || !PyUnicode_Check(value)) {
                PyErr_SetString(PyExc_TypeError, "embeddings_metadata must map layer names (str) to file names (str)");
                goto done;
            }
            if ((layers[k] = PyUnicode_AsUTF8(key)) == NULL || (files[k] = PyUnicode_AsUTF8(value)) == NULL) goto done;
            k++;
        }
        options.embeddings_metadata_count = (size_t)count;
        options.embeddings_metadata_layers = layers;
        options.embeddings_metadata_files = files;
    } else if (metadata != Py_None) {
        PyErr_Format(PyExc_TypeError, "embeddings_metadata must be a str, a dict or None, not %.100s", Py_TYPE(metadata)->tp_name);
        goto done;
    }
    if ((self->numbers = PyDict_New()) == NULL) goto done;
    ringboard_status status;
    Py_BEGIN_ALLOW_THREADS
    status = ringboard_open(&options, &self->run);
    Py_END_ALLOW_THREADS
    if (status != RINGBOARD_OK) {
        raise_status(status);
        goto done;
    }
    result = 0;
done:
    PyMem_Free(layers);
    PyMem_Free(files);
    return result;
}

static void Run_dealloc(RunObject *self) {
    ringboard_close(self->run);
    self->run = NULL;
    Py_XDECREF(self->numbers);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Run_close(RunObject *self, PyObject *unused) {
    (void)unused;
    ringboard_close(self->run);
    self->run = NULL;
    Py_RETURN_NONE;
}

static PyObject *Run_warnings(RunObject *self, void *unused) {
    (void)unused;
    if (check_open(self) < 0) return NULL;
    return PyUnicode_FromString(ringboard_warnings(self->run));
}

/* --- set_params, set_model ------------------------------------------------------------------ */

static int optional_count(PyObject *object, int64_t *out, const char *name) {
    if (object == Py_None) {
        *out = -1;
        return 0;
    }
    long long value = PyLong_AsLongLong(object);
    if (value == -1 && PyErr_Occurred()) return -1;
    if (value < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be 0 or more, not %lld", name, value);
        return -1;
    }
    *out = value;
    return 0;
}

static PyObject *Run_set_params(RunObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"batch_size", "epochs", "steps", "samples", "do_validation", "metrics", NULL};
    PyObject *batch_size = Py_None, *epochs = Py_None, *steps = Py_None, *samples = Py_None, *metrics = NULL;
    int do_validation = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOOpO", keywords, &batch_size, &epochs, &steps, &samples,
                                     &do_validation, &metrics)) {
        return NULL;
    }
    if (check_open(self) < 0) return NULL;
    ringboard_params params = {.do_validation = do_validation};
    if (optional_count(batch_size, &params.batch_size, "batch_size") < 0 || optional_count(epochs, &params.epochs, "epochs") < 0 ||
        optional_count(steps, &params.steps, "steps") < 0 || optional_count(samples, &params.samples, "samples") < 0) {
        return NULL;
    }
    PyObject *sequence = metrics ? PySequence_Fast(metrics, "metrics must be a sequence of str") : PyTuple_New(0);
    if (sequence == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
    const char **names = PyMem_Calloc((size_t)count + 1, sizeof *names);
    PyObject *result = NULL;
    if (names == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(sequence, k);
        if (!PyUnicode_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "metrics must be a sequence of str");
            goto done;
        }
        if ((names[k] = PyUnicode_AsUTF8(item)) == NULL) goto done;
    }
    params.metric_count = (size_t)count;
    params.metrics = names;
    ringboard_status status = ringboard_set_params(self->run, &params);
    if (status != RINGBOARD_OK) {
        raise_status(status);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyMem_Free(names);
    Py_DECREF(sequence);
    return result;
}

/*
 * set_model(name, model_json, layers, graph_def=None): layers is a sequence of
 * (name, class_name, config_json or None, [(weight_name, shape), ...]). The weights' values are
 * not given here (zeros until send_weights).
 */
static PyObject *Run_set_model(RunObject *self, PyObject *args) {
    PyObject *name, *model_json, *layer_list, *graph_def = Py_None;
    if (!PyArg_ParseTuple(args, "OOO|O", &name, &model_json, &layer_list, &graph_def)) return NULL;
    if (check_open(self) < 0) return NULL;
    ringboard_model model = {0};
    if (optional_string(name, &model.name, "name") < 0 || optional_string(model_json, &model.model_json, "model_json") < 0) {
        return NULL;
    }
    Py_buffer graph = {0};
    int have_graph = 0;
    if (graph_def != Py_None) {
        if (PyObject_GetBuffer(graph_def, &graph, PyBUF_SIMPLE) < 0) return NULL;
        have_graph = 1;
        model.graph_def = graph.buf;
        model.graph_def_size = (size_t)graph.len;
    }
    PyObject *result = NULL, *layers_fast = NULL;
    ringboard_layer *layers = NULL;
    ringboard_weight *weights = NULL;
    int64_t *shapes = NULL;
    PyObject **keep = NULL;  /* the weight lists' fast sequences, released at the end */
    Py_ssize_t kept = 0;

    if ((layers_fast = PySequence_Fast(layer_list, "layers must be a sequence")) == NULL) goto done;
    Py_ssize_t layer_count = PySequence_Fast_GET_SIZE(layers_fast);
    /* First pass: count weights and dimensions. */
    Py_ssize_t weight_total = 0, dimension_total = 0;
    for (Py_ssize_t l = 0; l < layer_count; l++) {
        PyObject *layer = PySequence_Fast_GET_ITEM(layers_fast, l);
        if (!PyTuple_Check(layer) || PyTuple_GET_SIZE(layer) != 4) {
            PyErr_SetString(PyExc_TypeError, "each layer must be a tuple (name, class_name, config_json, weights)");
            goto done;
        }
        Py_ssize_t count = PySequence_Size(PyTuple_GET_ITEM(layer, 3));
        if (count < 0) goto done;
        weight_total += count;
        for (Py_ssize_t w = 0; w < count; w++) {
            PyObject *weight = PySequence_GetItem(PyTuple_GET_ITEM(layer, 3), w);
            if (weight == NULL) goto done;
            Py_ssize_t rank = (PyTuple_Check(weight) && PyTuple_GET_SIZE(weight) == 2) ? PySequence_Size(PyTuple_GET_ITEM(weight, 1)) : -1;
            Py_DECREF(weight);
            if (rank < 0) {
                PyErr_Clear();
                PyErr_SetString(PyExc_TypeError, "each weight must be a tuple (name, shape)");
                goto done;
            }
            dimension_total += rank;
        }
    }
    layers = PyMem_Calloc((size_t)layer_count + 1, sizeof *layers);
    weights = PyMem_Calloc((size_t)weight_total + 1, sizeof *weights);
    shapes = PyMem_Calloc((size_t)dimension_total + 1, sizeof *shapes);
    keep = PyMem_Calloc((size_t)layer_count + 1, sizeof *keep);
    if (layers == NULL || weights == NULL || shapes == NULL || keep == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t next_weight = 0, next_dimension = 0;
    for (Py_ssize_t l = 0; l < layer_count; l++) {
        PyObject *layer = PySequence_Fast_GET_ITEM(layers_fast, l);
        ringboard_layer *out = &layers[l];
        if (optional_string(PyTuple_GET_ITEM(layer, 0), &out->name, "layer name") < 0 ||
            optional_string(PyTuple_GET_ITEM(layer, 1), &out->class_name, "class name") < 0 ||
            optional_string(PyTuple_GET_ITEM(layer, 2), &out->config_json, "config_json") < 0) {
            goto done;
        }
        PyObject *list = PySequence_Fast(PyTuple_GET_ITEM(layer, 3), "weights must be a sequence");
        if (list == NULL) goto done;
        keep[kept++] = list;
        Py_ssize_t count = PySequence_Fast_GET_SIZE(list);
        if (next_weight + count > weight_total) {
            PyErr_SetString(PyExc_ValueError, "the layers changed while set_model read them");
            goto done;
        }
        out->weights = &weights[next_weight];
        out->weight_count = (size_t)count;
        for (Py_ssize_t w = 0; w < count; w++) {
            PyObject *weight = PySequence_Fast_GET_ITEM(list, w);
            ringboard_weight *target = &weights[next_weight++];
            if (optional_string(PyTuple_GET_ITEM(weight, 0), &target->name, "weight name") < 0) goto done;
            PyObject *shape = PySequence_Fast(PyTuple_GET_ITEM(weight, 1), "a shape must be a sequence of int");
            if (shape == NULL) goto done;
            Py_ssize_t rank = PySequence_Fast_GET_SIZE(shape);
            if (next_dimension + rank > dimension_total || next_weight > weight_total) {
                /* A sequence that changed its length between the two passes. */
                Py_DECREF(shape);
                PyErr_SetString(PyExc_ValueError, "the layers changed while set_model read them");
                goto done;
            }
            target->shape = &shapes[next_dimension];
            target->rank = (size_t)rank;
            target->dtype = RINGBOARD_FLOAT32;
            for (Py_ssize_t d = 0; d < rank; d++) {
                long long dimension = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(shape, d));
                if (dimension == -1 && PyErr_Occurred()) {
                    Py_DECREF(shape);
                    goto done;
                }
                shapes[next_dimension++] = dimension;
            }
            Py_DECREF(shape);
        }
    }
    model.layers = layers;
    model.layer_count = (size_t)layer_count;
    ringboard_status status = ringboard_set_model(self->run, &model);
    if (status != RINGBOARD_OK) {
        raise_status(status);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    for (Py_ssize_t k = 0; k < kept; k++) Py_DECREF(keep[k]);
    PyMem_Free(keep);
    PyMem_Free(layers);
    PyMem_Free(weights);
    PyMem_Free(shapes);
    Py_XDECREF(layers_fast);
    if (have_graph) PyBuffer_Release(&graph);
    return result;
}

/* --- weights -------------------------------------------------------------------------------- */

static PyObject *Run_reads_weights(RunObject *self, PyObject *argument) {
    if (check_open(self) < 0) return NULL;
    long long epoch = PyLong_AsLongLong(argument);
    if (epoch == -1 && PyErr_Occurred()) return NULL;
    return PyBool_FromLong(ringboard_reads_weights(self->run, epoch));
}

/* send_weights(buffers): each a C-contiguous float32 or float64 buffer (a numpy array, say), in
   set_model's order. Read in place: the library's one copy is into shared memory. */
static PyObject *Run_send_weights(RunObject *self, PyObject *argument) {
    if (check_open(self) < 0) return NULL;
    PyObject *list = PySequence_Fast(argument, "send_weights takes a sequence of buffers");
    if (list == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(list), taken = 0;
    Py_buffer *views = PyMem_Calloc((size_t)count + 1, sizeof *views);
    const void **values = PyMem_Calloc((size_t)count + 1, sizeof *values);
    ringboard_dtype *dtypes = PyMem_Calloc((size_t)count + 1, sizeof *dtypes);
    PyObject *result = NULL;
    if (views == NULL || values == NULL || dtypes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(list, k), &views[k], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
        taken++;
        const char *format = views[k].format ? views[k].format : "B";
        if (format[0] == '<' || format[0] == '=' || format[0] == '@') format++;
        if (strcmp(format, "f") == 0 && views[k].itemsize == 4) {
            dtypes[k] = RINGBOARD_FLOAT32;
        } else if (strcmp(format, "d") == 0 && views[k].itemsize == 8) {
            dtypes[k] = RINGBOARD_FLOAT64;
        } else {
            PyErr_Format(PyExc_TypeError, "weight %zd: a float32 or float64 buffer is needed, not format '%s'", k, views[k].format);
            goto done;
        }
        values[k] = views[k].buf;
    }
    /* Length checks: the library knows each weight's count from set_model. */
    ringboard_status status;
    Py_BEGIN_ALLOW_THREADS
    status = ringboard_send_weights(self->run, (size_t)count, values, dtypes);
    Py_END_ALLOW_THREADS
    if (status != RINGBOARD_OK) {
        raise_status(status);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    for (Py_ssize_t k = 0; k < taken; k++) PyBuffer_Release(&views[k]);
    PyMem_Free(views);
    PyMem_Free(values);
    PyMem_Free(dtypes);
    Py_DECREF(list);
    return result;
}

/* --- metrics and hooks ---------------------------------------------------------------------- */

/* The number of `name` (a str, called `what` in errors) from `numbers`, the dict of names already
   numbered, or newly given by `number(handle, name)` and kept there. -1 with an exception. */
static long long numbered_name(PyObject *numbers, PyObject *name, const char *what, void *handle,
                               uint32_t (*number)(void *handle, const char *name)) {
    PyObject *known = PyDict_GetItemWithError(numbers, name);
    if (known != NULL) return PyLong_AsLongLong(known);
    if (PyErr_Occurred()) return -1;
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "a %s must be a str, not %.100s", what, Py_TYPE(name)->tp_name);
        return -1;
    }
    const char *text;
    if (optional_string(name, &text, what) < 0) return -1;
    uint32_t given = number(handle, text);
    if (given == UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, ringboard_last_error());
        return -1;
    }
    PyObject *value = PyLong_FromUnsignedLong(given);
    if (value == NULL || PyDict_SetItem(numbers, name, value) < 0) {
        Py_XDECREF(value);
        return -1;
    }
    Py_DECREF(value);
    return given;
}

static uint32_t run_metric(void *run, const char *name) { return ringboard_metric(run, name); }

/* The number of metric `name` (a str), from the run's dict or newly given. -1 with an exception. */
static long long metric_number(RunObject *self, PyObject *name) {
    return numbered_name(self->numbers, name, "metric name", self->run, run_metric);
}

static PyObject *Run_metric(RunObject *self, PyObject *name) {
    if (check_open(self) < 0) return NULL;
    long long number = metric_number(self, name);
    return number < 0 ? NULL : PyLong_FromLongLong(number);
}

/* hook(kind, index, logs): logs is a dict of metric name -> number (anything float() takes), or None. */
static PyObject *Run_hook(RunObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "hook(kind, index, logs) takes 3 arguments");
        return NULL;
    }
    if (check_open(self) < 0) return NULL;
    long kind = PyLong_AsLong(args[0]);
    if (kind == -1 && PyErr_Occurred()) return NULL;
    long long index = PyLong_AsLongLong(args[1]);
    if (index == -1 && PyErr_Occurred()) return NULL;
    PyObject *logs = args[2];
    uint32_t inline_metrics[INLINE_METRICS];
    double inline_values[INLINE_METRICS];
    uint32_t *metrics = inline_metrics;
    double *values = inline_values;
    Py_ssize_t count = 0;
    PyObject *result = NULL;
    if (logs != Py_None) {
        if (!PyDict_Check(logs)) {
            PyErr_Format(PyExc_TypeError, "logs must be a dict or None, not %.100s", Py_TYPE(logs)->tp_name);
            return NULL;
        }
        Py_ssize_t size = PyDict_GET_SIZE(logs);
        if (size > INLINE_METRICS) {
            metrics = PyMem_Malloc((size_t)size * sizeof *metrics);
            values = PyMem_Malloc((size_t)size * sizeof *values);
            if (metrics == NULL || values == NULL) {
                PyErr_NoMemory();
                goto done;
            }
        }
        Py_ssize_t position = 0;
        PyObject *key, *value;
        while (PyDict_Next(logs, &position, &key, &value)) {
            long long number = metric_number(self, key);
            if (number < 0) goto done;
            double number_value = PyFloat_Check(value) ? PyFloat_AS_DOUBLE(value) : PyFloat_AsDouble(value);
            if (number_value == -1.0 && PyErr_Occurred()) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "logs[%R] must be a number, not %.100s", key, Py_TYPE(value)->tp_name);
                goto done;
            }
            metrics[count] = (uint32_t)number;
            values[count] = number_value;
            count++;
        }
    }
    ringboard_status status = ringboard_hook(self->run, (ringboard_hook_kind)kind, index, metrics, values, (size_t)count);
    if (status != RINGBOARD_OK) {
        raise_status(status);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    if (metrics != inline_metrics) PyMem_Free(metrics);
    if (values != inline_values) PyMem_Free(values);
    return result;
}

static PyObject *Run_wait_written(RunObject *self, PyObject *argument) {
    if (check_open(self) < 0) return NULL;
    double timeout = PyFloat_AsDouble(argument);
    if (timeout == -1.0 && PyErr_Occurred()) return NULL;
    ringboard_status status;
    Py_BEGIN_ALLOW_THREADS
    status = ringboard_wait_written(self->run, timeout);
    Py_END_ALLOW_THREADS
    if (status == RINGBOARD_TIMEOUT) Py_RETURN_FALSE;
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_TRUE;
}

static PyObject *Run_span(RunObject *self, PyObject *args) {
    if (check_open(self) < 0) return NULL;
    const char *name;
    long long start, duration;
    if (!PyArg_ParseTuple(args, "sLL:span", &name, &start, &duration)) return NULL;
    ringboard_status status = ringboard_span(self->run, name, (int64_t)start, (int64_t)duration);
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_NONE;
}

static PyMethodDef Run_methods[] = {
    {"close", (PyCFunction)Run_close, METH_NOARGS, "Frees the run (its records stay in the ring)."},
    {"set_params", (PyCFunction)(void (*)(void))Run_set_params, METH_VARARGS | METH_KEYWORDS,
     "set_params(batch_size=None, epochs=None, steps=None, samples=None, do_validation=False, metrics=())"},
    {"set_model", (PyCFunction)Run_set_model, METH_VARARGS,
     "set_model(name, model_json, layers, graph_def=None); layers: [(name, class_name, config_json, [(weight, shape)])]"},
    {"reads_weights", (PyCFunction)Run_reads_weights, METH_O, "Whether the end of this epoch reads the weights."},
    {"send_weights", (PyCFunction)Run_send_weights, METH_O, "Sends the weights' values (float32/float64 buffers)."},
    {"metric", (PyCFunction)Run_metric, METH_O, "The number of a metric name."},
    {"hook", (PyCFunction)(void (*)(void))Run_hook, METH_FASTCALL, "hook(kind, index, logs)"},
    {"wait_written", (PyCFunction)Run_wait_written, METH_O,
     "Waits at most this many seconds until everything sent is in the event files; False on timeout."},
    {"span", (PyCFunction)Run_span, METH_VARARGS,
     "span(name, start_ns, duration_ns): a span for the profiled batch's trace (time.time_ns() clock)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Run_getset[] = {
    {"warnings", (getter)Run_warnings, NULL, "Warnings about the run, one per line.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject RunType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ringboard._native.Run",
    .tp_basicsize = sizeof(RunObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A TensorBoard callback run in libringboard.so.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Run_init,
    .tp_dealloc = (destructor)Run_dealloc,
    .tp_methods = Run_methods,
    .tp_getset = Run_getset,
};

/* --- Writer(...): a SummaryWriter ------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    ringboard_writer *writer;
    /* Tag or directory name (str) -> number (int), for names already numbered. */
    PyObject *numbers;
} WriterObject;

static int writer_open(WriterObject *self) {
    if (self->writer == NULL) {
        PyErr_SetString(PyExc_ValueError, "the writer is closed");
        return -1;
    }
    return 0;
}

static int Writer_init(WriterObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"log_dir", "rank", "world_size", "rank_policy", "ring_directory", "aggregator_executable",
                               "start_aggregator", NULL};
    PyObject *log_dir, *ring_directory = Py_None, *executable = Py_None;
    int rank = 0, world_size = 1, rank_policy = 0, start = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|iiiOOp", keywords, &log_dir, &rank, &world_size, &rank_policy,
                                     &ring_directory, &executable, &start))
        return -1;
    ringboard_writer_options options = ringboard_writer_options_default();
    if (optional_string(log_dir, &options.log_dir, "log_dir") < 0 ||
        optional_string(ring_directory, &options.ring_directory, "ring_directory") < 0 ||
        optional_string(executable, &options.aggregator_executable, "aggregator_executable") < 0)
        return -1;
    options.rank = rank;
    options.world_size = world_size;
    options.rank_policy = (ringboard_rank_policy)rank_policy;
    options.start_aggregator = start;
    Py_XSETREF(self->numbers, PyDict_New());
    if (self->numbers == NULL) return -1;
    ringboard_writer *writer = NULL;
    ringboard_status status;
    Py_BEGIN_ALLOW_THREADS
    status = ringboard_writer_open(&options, &writer);
    Py_END_ALLOW_THREADS
    if (status != RINGBOARD_OK) {
        raise_status(status);
        return -1;
    }
    ringboard_writer_close(self->writer);
    self->writer = writer;
    return 0;
}

static void Writer_dealloc(WriterObject *self) {
    ringboard_writer_close(self->writer);
    self->writer = NULL;
    Py_XDECREF(self->numbers);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Writer_close(WriterObject *self, PyObject *unused) {
    (void)unused;
    ringboard_writer_close(self->writer);
    self->writer = NULL;
    Py_RETURN_NONE;
}

static PyObject *Writer_log_dir(WriterObject *self, void *unused) {
    (void)unused;
    if (writer_open(self) < 0) return NULL;
    return PyUnicode_FromString(ringboard_writer_log_dir(self->writer));
}

static PyObject *Writer_warnings(WriterObject *self, void *unused) {
    (void)unused;
    if (writer_open(self) < 0) return NULL;
    return PyUnicode_FromString(ringboard_writer_warnings(self->writer));
}

static uint32_t writer_tag(void *writer, const char *name) { return ringboard_writer_tag(writer, name); }

/* The number of tag `name` (a str), from the writer's dict or newly given. -1 with an exception. */
static long long tag_number(WriterObject *self, PyObject *name) {
    return numbered_name(self->numbers, name, "tag", self->writer, writer_tag);
}

static PyObject *Writer_tag(WriterObject *self, PyObject *name) {
    if (writer_open(self) < 0) return NULL;
    long long number = tag_number(self, name);
    return number < 0 ? NULL : PyLong_FromLongLong(number);
}

/* add_scalar(tag, value, step, wall_time, directory=None): the hot path, without keywords. The value
   is anything float() takes; the step None (0) or an int; the wall time None (now) or a float. A value
   of another kind raises TypeError, and the Python side converts it and calls again. */
static PyObject *Writer_add_scalar(WriterObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 4 || nargs > 5) {
        PyErr_SetString(PyExc_TypeError, "add_scalar(tag, value, step, wall_time[, directory])");
        return NULL;
    }
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, args[0]);
    if (tag < 0) return NULL;
    long long directory = RINGBOARD_NO_DIRECTORY;
    if (nargs == 5 && args[4] != Py_None) {
        directory = tag_number(self, args[4]);
        if (directory < 0) return NULL;
    }
    double value = PyFloat_CheckExact(args[1]) ? PyFloat_AS_DOUBLE(args[1]) : PyFloat_AsDouble(args[1]);
    if (value == -1.0 && PyErr_Occurred()) return NULL;
    long long step = 0;
    if (args[2] != Py_None) {
        if (!PyLong_Check(args[2])) {
            PyErr_SetString(PyExc_TypeError, "the step must be an int here");
            return NULL;
        }
        step = PyLong_AsLongLong(args[2]);
        if (step == -1 && PyErr_Occurred()) return NULL;
    }
    double wall_time = -1.0;
    if (args[3] != Py_None) {
        wall_time = PyFloat_AsDouble(args[3]);
        if (wall_time == -1.0 && PyErr_Occurred()) return NULL;
    }
    ringboard_status status = ringboard_add_scalar(self->writer, (uint32_t)tag, (uint32_t)directory, value, step, wall_time);
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_NONE;
}

static PyObject *Writer_add_text(WriterObject *self, PyObject *args) {
    PyObject *tag_name, *text;
    long long step;
    double wall_time;
    if (!PyArg_ParseTuple(args, "OULd", &tag_name, &text, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    Py_ssize_t length;
    const char *bytes = PyUnicode_AsUTF8AndSize(text, &length);
    if (bytes == NULL) return NULL;
    ringboard_status status = ringboard_add_text(self->writer, (uint32_t)tag, bytes, (size_t)length, step, wall_time);
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_NONE;
}

/* add_histogram(tag, values, step, wall_time): values a C-contiguous float32 or float64 buffer. */
static PyObject *Writer_add_histogram(WriterObject *self, PyObject *args) {
    PyObject *tag_name, *values;
    long long step;
    double wall_time;
    if (!PyArg_ParseTuple(args, "OOLd", &tag_name, &values, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(values, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    const char *format = view.format ? view.format : "B";
    if (format[0] == '<' || format[0] == '=' || format[0] == '@') format++;
    ringboard_dtype dtype;
    if (strcmp(format, "f") == 0 && view.itemsize == 4) {
        dtype = RINGBOARD_FLOAT32;
    } else if (strcmp(format, "d") == 0 && view.itemsize == 8) {
        dtype = RINGBOARD_FLOAT64;
    } else {
        PyErr_Format(PyExc_TypeError, "histogram values: a float32 or float64 buffer is needed, not format '%s'", view.format);
        PyBuffer_Release(&view);
        return NULL;
    }
    ringboard_status status;
    Py_BEGIN_ALLOW_THREADS
    status = ringboard_add_histogram(self->writer, (uint32_t)tag, view.buf, (size_t)(view.len / view.itemsize), dtype, step, wall_time);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_NONE;
}

/* max_histogram_values(itemsize): the most values of 4 (float32) or 8 (float64) bytes one call takes. */
static PyObject *Writer_max_histogram_values(WriterObject *self, PyObject *argument) {
    if (writer_open(self) < 0) return NULL;
    long itemsize = PyLong_AsLong(argument);
    if (itemsize == -1 && PyErr_Occurred()) return NULL;
    ringboard_dtype dtype = itemsize == 8 ? RINGBOARD_FLOAT64 : RINGBOARD_FLOAT32;
    return PyLong_FromSize_t(ringboard_writer_max_histogram_values(self->writer, dtype));
}

/* add_histogram_raw(tag, min, max, num, sum, sum_squares, limits, counts, step, wall_time):
   limits and counts float64 buffers of one length. */
static PyObject *Writer_add_histogram_raw(WriterObject *self, PyObject *args) {
    PyObject *tag_name, *limits, *counts;
    double min, max, num, sum, sum_squares, wall_time;
    long long step;
    if (!PyArg_ParseTuple(args, "OdddddOOLd", &tag_name, &min, &max, &num, &sum, &sum_squares, &limits, &counts, &step, &wall_time))
        return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    Py_buffer l, c;
    if (PyObject_GetBuffer(limits, &l, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    if (PyObject_GetBuffer(counts, &c, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&l);
        return NULL;
    }
    PyObject *result = NULL;
    if (l.itemsize != 8 || c.itemsize != 8 || (l.format && strchr(l.format, 'd') == NULL) || (c.format && strchr(c.format, 'd') == NULL)) {
        PyErr_SetString(PyExc_TypeError, "bucket_limits and bucket_counts must be float64 buffers");
    } else if (l.len != c.len) {
        PyErr_Format(PyExc_ValueError, "len(bucket_limits) != len(bucket_counts): %zd and %zd", l.len / 8, c.len / 8);
    } else {
        ringboard_status status = ringboard_add_histogram_raw(self->writer, (uint32_t)tag, min, max, num, sum, sum_squares, l.buf, c.buf,
                                                              (size_t)(l.len / 8), step, wall_time);
        result = status == RINGBOARD_OK ? Py_NewRef(Py_None) : raise_status(status);
    }
    PyBuffer_Release(&l);
    PyBuffer_Release(&c);
    return result;
}

/* add_image(tag, pixels, step, wall_time): pixels a C-contiguous uint8 buffer of shape (H, W, C). */
static PyObject *Writer_add_image(WriterObject *self, PyObject *args) {
    PyObject *tag_name, *pixels;
    long long step;
    double wall_time;
    if (!PyArg_ParseTuple(args, "OOLd", &tag_name, &pixels, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(pixels, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0) return NULL;
    PyObject *result = NULL;
    if (view.ndim != 3 || view.itemsize != 1) {
        PyErr_SetString(PyExc_ValueError, "image pixels: a uint8 buffer of shape (height, width, channels) is needed");
    } else {
        ringboard_status status;
        Py_BEGIN_ALLOW_THREADS
        status = ringboard_add_image(self->writer, (uint32_t)tag, view.buf, (size_t)view.shape[0], (size_t)view.shape[1],
                                     (size_t)view.shape[2], step, wall_time);
        Py_END_ALLOW_THREADS
        result = status == RINGBOARD_OK ? Py_NewRef(Py_None) : raise_status(status);
    }
    PyBuffer_Release(&view);
    return result;
}

/* add_hparams(json, directory, step, wall_time): directory None for the writer's own. */
static PyObject *Writer_add_hparams(WriterObject *self, PyObject *args) {
    const char *json;
    PyObject *directory_name;
    long long step;
    double wall_time;
    if (!PyArg_ParseTuple(args, "sOLd", &json, &directory_name, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long directory = RINGBOARD_NO_DIRECTORY;
    if (directory_name != Py_None) {
        directory = tag_number(self, directory_name);
        if (directory < 0) return NULL;
    }
    ringboard_status status = ringboard_add_hparams(self->writer, (uint32_t)directory, json, step, wall_time);
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_NONE;
}

/* add_custom_scalars(json, step, wall_time). */
static PyObject *Writer_add_custom_scalars(WriterObject *self, PyObject *args) {
    const char *json;
    long long step;
    double wall_time;
    if (!PyArg_ParseTuple(args, "sLd", &json, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    ringboard_status status = ringboard_add_custom_scalars(self->writer, json, step, wall_time);
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_NONE;
}

/* add_pr_curve(tag, values, num_thresholds, step, wall_time): values a C-contiguous float32 buffer
   of shape (6, columns). */
static PyObject *Writer_add_pr_curve(WriterObject *self, PyObject *args) {
    PyObject *tag_name, *values;
    unsigned int num_thresholds;
    long long step;
    double wall_time;
    if (!PyArg_ParseTuple(args, "OOILd", &tag_name, &values, &num_thresholds, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(values, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0) return NULL;
    PyObject *result = NULL;
    if (view.ndim != 2 || view.shape[0] != 6 || view.itemsize != 4 || (view.format && strchr(view.format, 'f') == NULL)) {
        PyErr_SetString(PyExc_ValueError, "PR curve values: a float32 buffer of shape (6, thresholds) is needed");
    } else {
        ringboard_status status = ringboard_add_pr_curve(self->writer, (uint32_t)tag, view.buf, (size_t)view.shape[1], num_thresholds,
                                                         step, wall_time);
        result = status == RINGBOARD_OK ? Py_NewRef(Py_None) : raise_status(status);
    }
    PyBuffer_Release(&view);
    return result;
}

/* add_audio(tag, samples, sample_rate, step, wall_time): samples a C-contiguous 1-d float32 or
   float64 buffer. */
static PyObject *Writer_add_audio(WriterObject *self, PyObject *args) {
    PyObject *tag_name, *samples;
    double sample_rate, wall_time;
    long long step;
    if (!PyArg_ParseTuple(args, "OOdLd", &tag_name, &samples, &sample_rate, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(samples, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0) return NULL;
    PyObject *result = NULL;
    int is_float = view.format && (strcmp(view.format, "f") == 0 || strcmp(view.format, "<f") == 0);
    int is_double = view.format && (strcmp(view.format, "d") == 0 || strcmp(view.format, "<d") == 0);
    if (view.ndim != 1 || !(is_float || is_double)) {
        PyErr_SetString(PyExc_ValueError, "audio samples: a 1-d float32 or float64 buffer is needed");
    } else {
        ringboard_status status;
        Py_BEGIN_ALLOW_THREADS
        status = ringboard_add_audio(self->writer, (uint32_t)tag, view.buf, (size_t)view.shape[0],
                                     is_float ? RINGBOARD_FLOAT32 : RINGBOARD_FLOAT64, sample_rate, step, wall_time);
        Py_END_ALLOW_THREADS
        result = status == RINGBOARD_OK ? Py_NewRef(Py_None) : raise_status(status);
    }
    PyBuffer_Release(&view);
    return result;
}

/* A C-contiguous float32 buffer of shape (batch, count, 3), or None; 0 on success. */
static int mesh_part(PyObject *object, Py_buffer *view, const char *name) {
    if (object == Py_None) {
        view->obj = NULL;
        return 0;
    }
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0) return -1;
    if (view->ndim != 3 || view->shape[2] != 3 || view->itemsize != 4 || (view->format && strchr(view->format, 'f') == NULL)) {
        PyErr_Format(PyExc_ValueError, "mesh %s: a float32 buffer of shape (batch, count, 3) is needed", name);
        PyBuffer_Release(view);
        view->obj = NULL;
        return -1;
    }
    return 0;
}

/* add_mesh(tag, vertices, colors, faces, config_json, step, wall_time): each a C-contiguous float32
   buffer of shape (batch, count, 3); colors and faces may be None. */
static PyObject *Writer_add_mesh(WriterObject *self, PyObject *args) {
    PyObject *tag_name, *vertices, *colors, *faces;
    const char *config;
    long long step;
    double wall_time;
    if (!PyArg_ParseTuple(args, "OOOOsLd", &tag_name, &vertices, &colors, &faces, &config, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    if (vertices == Py_None) {
        PyErr_SetString(PyExc_ValueError, "mesh vertices are needed");
        return NULL;
    }
    Py_buffer v = {0}, c = {0}, f = {0};
    PyObject *result = NULL;
    if (mesh_part(vertices, &v, "vertices") == 0 && mesh_part(colors, &c, "colors") == 0 && mesh_part(faces, &f, "faces") == 0) {
        if ((c.obj && (c.shape[0] != v.shape[0] || c.shape[1] != v.shape[1])) || (f.obj && f.shape[0] != v.shape[0])) {
            PyErr_SetString(PyExc_ValueError, "mesh colors must have the vertices' shape, and faces their batch");
        } else {
            ringboard_status status = ringboard_add_mesh(self->writer, (uint32_t)tag, v.buf, c.obj ? c.buf : NULL, f.obj ? f.buf : NULL,
                                                         (size_t)v.shape[0], (size_t)v.shape[1], f.obj ? (size_t)f.shape[1] : 0, config,
                                                         step, wall_time);
            result = status == RINGBOARD_OK ? Py_NewRef(Py_None) : raise_status(status);
        }
    }
    if (v.obj) PyBuffer_Release(&v);
    if (c.obj) PyBuffer_Release(&c);
    if (f.obj) PyBuffer_Release(&f);
    return result;
}

/* add_graph(graph_def_bytes, run_metadata_bytes, wall_time). */
static PyObject *Writer_add_graph(WriterObject *self, PyObject *args) {
    Py_buffer graph, metadata;
    double wall_time;
    if (!PyArg_ParseTuple(args, "y*y*d", &graph, &metadata, &wall_time)) return NULL;
    PyObject *result = NULL;
    if (writer_open(self) == 0) {
        ringboard_status status = ringboard_add_graph(self->writer, graph.buf, (size_t)graph.len, metadata.buf, (size_t)metadata.len, wall_time);
        result = status == RINGBOARD_OK ? Py_NewRef(Py_None) : raise_status(status);
    }
    PyBuffer_Release(&graph);
    PyBuffer_Release(&metadata);
    return result;
}

/* add_embedding(tag, values, metadata, sprite, image_height, image_width, step): values a C-contiguous
   float32 buffer of shape (rows, columns); metadata str or None; sprite a uint8 buffer of shape
   (side, side, 3) or None. */
static PyObject *Writer_add_embedding(WriterObject *self, PyObject *args) {
    PyObject *tag_name, *values, *metadata, *sprite;
    Py_ssize_t image_height, image_width;
    long long step;
    if (!PyArg_ParseTuple(args, "OOOOnnL", &tag_name, &values, &metadata, &sprite, &image_height, &image_width, &step)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    const char *text = NULL;
    Py_ssize_t text_length = 0;
    if (metadata != Py_None && (text = PyUnicode_AsUTF8AndSize(metadata, &text_length)) == NULL) return NULL;
    Py_buffer view, image = {0};
    if (PyObject_GetBuffer(values, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0) return NULL;
    PyObject *result = NULL;
    if (view.ndim != 2 || view.itemsize != 4 || (view.format && strchr(view.format, 'f') == NULL)) {
        PyErr_SetString(PyExc_ValueError, "embedding: a float32 buffer of shape (points, dimensions) is needed");
    } else if (sprite != Py_None && PyObject_GetBuffer(sprite, &image, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0) {
        image.obj = NULL;
    } else if (image.obj && (image.ndim != 3 || image.shape[0] != image.shape[1] || image.shape[2] != 3 || image.itemsize != 1)) {
        PyErr_SetString(PyExc_ValueError, "embedding sprite: a uint8 buffer of shape (side, side, 3) is needed");
    } else {
        ringboard_status status;
        Py_BEGIN_ALLOW_THREADS
        status = ringboard_add_embedding(self->writer, (uint32_t)tag, view.buf, (size_t)view.shape[0], (size_t)view.shape[1], text,
                                         (size_t)text_length, image.obj ? image.buf : NULL, image.obj ? (size_t)image.shape[0] : 0,
                                         (size_t)image_height, (size_t)image_width, step);
        Py_END_ALLOW_THREADS
        result = status == RINGBOARD_OK ? Py_NewRef(Py_None) : raise_status(status);
    }
    if (image.obj) PyBuffer_Release(&image);
    PyBuffer_Release(&view);
    return result;
}

/* add_tensor_scalar(tag, value, double_precision, step, wall_time). */
static PyObject *Writer_add_tensor_scalar(WriterObject *self, PyObject *args) {
    PyObject *tag_name;
    double value, wall_time;
    int double_precision;
    long long step;
    if (!PyArg_ParseTuple(args, "OdpLd", &tag_name, &value, &double_precision, &step, &wall_time)) return NULL;
    if (writer_open(self) < 0) return NULL;
    long long tag = tag_number(self, tag_name);
    if (tag < 0) return NULL;
    ringboard_status status = ringboard_add_tensor_scalar(self->writer, (uint32_t)tag, RINGBOARD_NO_DIRECTORY, value, double_precision,
                                                          step, wall_time);
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_NONE;
}

/* purge(step). */
static PyObject *Writer_purge(WriterObject *self, PyObject *argument) {
    if (writer_open(self) < 0) return NULL;
    long long step = PyLong_AsLongLong(argument);
    if (step == -1 && PyErr_Occurred()) return NULL;
    ringboard_status status = ringboard_writer_purge(self->writer, step);
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_NONE;
}

static PyObject *Writer_wait_written(WriterObject *self, PyObject *argument) {
    if (writer_open(self) < 0) return NULL;
    double timeout = PyFloat_AsDouble(argument);
    if (timeout == -1.0 && PyErr_Occurred()) return NULL;
    ringboard_status status;
    Py_BEGIN_ALLOW_THREADS
    status = ringboard_writer_wait_written(self->writer, timeout);
    Py_END_ALLOW_THREADS
    if (status == RINGBOARD_TIMEOUT) Py_RETURN_FALSE;
    if (status != RINGBOARD_OK) return raise_status(status);
    Py_RETURN_TRUE;
}

static PyMethodDef Writer_methods[] = {
    {"close", (PyCFunction)Writer_close, METH_NOARGS, "Frees the writer (its records stay in the ring)."},
    {"tag", (PyCFunction)Writer_tag, METH_O, "The number of a tag or add_scalars directory."},
    {"add_scalar", (PyCFunction)(void (*)(void))Writer_add_scalar, METH_FASTCALL, "add_scalar(tag, value, step, wall_time[, directory])"},
    {"add_text", (PyCFunction)Writer_add_text, METH_VARARGS, "add_text(tag, text, step, wall_time)"},
    {"add_histogram", (PyCFunction)Writer_add_histogram, METH_VARARGS, "add_histogram(tag, values, step, wall_time)"},
    {"max_histogram_values", (PyCFunction)Writer_max_histogram_values, METH_O, "The most values of this item size one histogram call takes."},
    {"add_histogram_raw", (PyCFunction)Writer_add_histogram_raw, METH_VARARGS,
     "add_histogram_raw(tag, min, max, num, sum, sum_squares, limits, counts, step, wall_time)"},
    {"add_image", (PyCFunction)Writer_add_image, METH_VARARGS, "add_image(tag, pixels_hwc_uint8, step, wall_time)"},
    {"add_hparams", (PyCFunction)Writer_add_hparams, METH_VARARGS, "add_hparams(json, directory, step, wall_time)"},
    {"add_custom_scalars", (PyCFunction)Writer_add_custom_scalars, METH_VARARGS, "add_custom_scalars(json, step, wall_time)"},
    {"add_pr_curve", (PyCFunction)Writer_add_pr_curve, METH_VARARGS, "add_pr_curve(tag, values_6xN_float32, num_thresholds, step, wall_time)"},
    {"add_audio", (PyCFunction)Writer_add_audio, METH_VARARGS, "add_audio(tag, samples_float, sample_rate, step, wall_time)"},
    {"add_mesh", (PyCFunction)Writer_add_mesh, METH_VARARGS, "add_mesh(tag, vertices, colors, faces, config_json, step, wall_time)"},
    {"add_graph", (PyCFunction)Writer_add_graph, METH_VARARGS, "add_graph(graph_def_bytes, run_metadata_bytes, wall_time)"},
    {"add_embedding", (PyCFunction)Writer_add_embedding, METH_VARARGS,
     "add_embedding(tag, values_float32, metadata, sprite_uint8, image_height, image_width, step)"},
    {"add_tensor_scalar", (PyCFunction)Writer_add_tensor_scalar, METH_VARARGS, "add_tensor_scalar(tag, value, double_precision, step, wall_time)"},
    {"purge", (PyCFunction)Writer_purge, METH_O, "purge(step): a SessionLog START at step."},
    {"wait_written", (PyCFunction)Writer_wait_written, METH_O, "Waits until everything sent is in the event files; False on timeout."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Writer_getset[] = {
    {"log_dir", (getter)Writer_log_dir, NULL, "The directory the event files go in, absolute.", NULL},
    {"warnings", (getter)Writer_warnings, NULL, "Warnings about the writer, one per line.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ringboard._native.Writer",
    .tp_basicsize = sizeof(WriterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A SummaryWriter in libringboard.so.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Writer_init,
    .tp_dealloc = (destructor)Writer_dealloc,
    .tp_methods = Writer_methods,
    .tp_getset = Writer_getset,
};

static PyObject *abi_version(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return PyLong_FromUnsignedLong(ringboard_abi_version());
}

static PyObject *library_version(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return PyUnicode_FromString(ringboard_version());
}

static PyMethodDef module_methods[] = {
    {"abi_version", abi_version, METH_NOARGS, "The library's RINGBOARD_ABI_VERSION."},
    {"library_version", library_version, METH_NOARGS, "The library's version."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "ringboard._native", "The binding of libringboard.so.", -1, module_methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (ringboard_abi_version() < RINGBOARD_ABI_VERSION) {
        PyErr_Format(PyExc_ImportError, "libringboard.so serves ABI version %u, older than this module's %d: reinstall ringboard",
                     ringboard_abi_version(), RINGBOARD_ABI_VERSION);
        return NULL;
    }
    if (PyType_Ready(&RunType) < 0 || PyType_Ready(&WriterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    RingboardError = PyErr_NewException("ringboard.RingboardError", PyExc_RuntimeError, NULL);
    if (RingboardError == NULL || PyModule_AddObjectRef(m, "RingboardError", RingboardError) < 0 ||
        PyModule_AddObjectRef(m, "Run", (PyObject *)&RunType) < 0 || PyModule_AddObjectRef(m, "Writer", (PyObject *)&WriterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
