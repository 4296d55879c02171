/*
 * ringboard.h: the C interface to Ringboard's Keras TensorBoard callback (libringboard.so).
 *
 * A run is what one `keras.callbacks.TensorBoard` object is: opened with the callback's
 * arguments, then given Keras's hooks in the order Keras calls them. Every hook becomes a compact
 * record in this process's shared-memory ring; the aggregator (`ringboard aggregate`, started on
 * demand) applies the TF 2.0 contract and writes the event files. A batch hook with registered
 * metrics takes no lock, makes no system call and allocates nothing.
 *
 *     ringboard_options options = ringboard_options_default();
 *     options.log_dir = "logs/fit";
 *     options.update_freq = RINGBOARD_UPDATE_BATCH;
 *     ringboard_run *run;
 *     if (ringboard_open(&options, &run) != RINGBOARD_OK) {
 *         fprintf(stderr, "%s\n", ringboard_last_error());
 *         return 1;
 *     }
 *     uint32_t metrics[2] = { ringboard_metric(run, "loss"), ringboard_metric(run, "accuracy") };
 *     double values[2];
 *     ringboard_hook(run, RINGBOARD_TRAIN_BEGIN, 0, NULL, NULL, 0);
 *     for (int64_t batch = 0; batch < steps; batch++) {
 *         values[0] = loss; values[1] = accuracy;
 *         ringboard_hook(run, RINGBOARD_TRAIN_BATCH_END, batch, metrics, values, 2);
 *     }
 *     ringboard_hook(run, RINGBOARD_TRAIN_END, 0, NULL, NULL, 0);
 *     ringboard_wait_written(run, 10.0);   // everything in the event files
 *     ringboard_close(run);
 *
 * Errors: every function that can fail returns a ringboard_status; on failure the reason is in
 * ringboard_last_error(), per thread, until the thread's next failing call. Nothing is sent for
 * a call that fails.
 *
 * Threads: a run may be used from several threads; records of one thread stay in order.
 *
 * Versions: RINGBOARD_ABI_VERSION grows when this interface grows. Pass it in
 * ringboard_options.abi_version (ringboard_options_default() does): a library older than the
 * header the caller was built with refuses with RINGBOARD_ABI_MISMATCH, and a newer one serves
 * older callers as they expect.
 */
#ifndef RINGBOARD_H
#define RINGBOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this interface; see "Versions" above. */
#define RINGBOARD_ABI_VERSION 5

typedef enum ringboard_status {
    RINGBOARD_OK = 0,
    /** An argument is out of range, missing or malformed (the message names it). */
    RINGBOARD_INVALID_ARGUMENT = 1,
    /** The hooks contradict the arguments, as Keras would refuse them (histograms without validation data, say). */
    RINGBOARD_CONFIGURATION = 2,
    /** The ring cannot be made or reached. */
    RINGBOARD_TRANSPORT = 3,
    /** The caller was built against a newer ringboard.h than this library serves. */
    RINGBOARD_ABI_MISMATCH = 4,
    /** ringboard_wait_written: not everything was written in time. */
    RINGBOARD_TIMEOUT = 5,
} ringboard_status;

/** `update_freq`: "epoch", "batch", or a number of samples (`update_freq_samples`). */
typedef enum ringboard_update_freq {
    RINGBOARD_UPDATE_EPOCH = 0,
    RINGBOARD_UPDATE_BATCH = 1,
    RINGBOARD_UPDATE_SAMPLES = 2,
} ringboard_update_freq;

/** How the hooks of the ranks that train together combine. */
typedef enum ringboard_rank_policy {
    /** Rank 0's hooks only, as Keras writes (the default). */
    RINGBOARD_RANK_CHIEF = 0,
    /** One merged hook per step: sizes summed, metrics size-weighted means. */
    RINGBOARD_RANK_MEAN = 1,
    /** Each rank a run of its own, in `<log_dir>/rank_<r>/`. */
    RINGBOARD_RANK_PER_RANK = 2,
} ringboard_rank_policy;

/** Whose TensorBoard callback a run writes as. */
typedef enum ringboard_semantics {
    /** `tf.keras.callbacks.TensorBoard` of TF 2.0: update_freq in samples, simple_value scalars. */
    RINGBOARD_SEMANTICS_TF20 = 0,
    /**
     * `keras.callbacks.TensorBoard` of Keras 3: update_freq in batches under its recording
     * condition, tensor summaries. The caller appends `learning_rate` to the epoch-end logs and
     * passes the optimizer's iterations as RINGBOARD_TEST_END's index (-1: no optimizer).
     */
    RINGBOARD_SEMANTICS_KERAS3 = 1,
} ringboard_semantics;

/** Keras's hooks. The batch hooks take the batch index, the epoch hooks the epoch. */
typedef enum ringboard_hook_kind {
    RINGBOARD_TRAIN_BEGIN = 0,
    RINGBOARD_TRAIN_END = 1,
    RINGBOARD_EPOCH_BEGIN = 2,
    RINGBOARD_EPOCH_END = 3,
    RINGBOARD_TEST_BEGIN = 4,
    RINGBOARD_TEST_END = 5,
    RINGBOARD_PREDICT_BEGIN = 6,
    RINGBOARD_PREDICT_END = 7,
    RINGBOARD_TRAIN_BATCH_BEGIN = 8,
    RINGBOARD_TRAIN_BATCH_END = 9,
    RINGBOARD_TEST_BATCH_BEGIN = 10,
    RINGBOARD_TEST_BATCH_END = 11,
    RINGBOARD_PREDICT_BATCH_BEGIN = 12,
    RINGBOARD_PREDICT_BATCH_END = 13,
} ringboard_hook_kind;

/** A weight's element type. Float64 values are narrowed to Float32 when sent. */
typedef enum ringboard_dtype {
    RINGBOARD_FLOAT32 = 0,
    RINGBOARD_FLOAT64 = 1,
} ringboard_dtype;

/** The arguments of `keras.callbacks.TensorBoard`, and where the run goes. */
typedef struct ringboard_options {
    /** RINGBOARD_ABI_VERSION of the header the caller was built with. */
    uint32_t abi_version;
    /** sizeof(ringboard_options) of that header. */
    uint32_t size;
    /** The run directory: absolute, or relative to the working directory. NULL: "logs". */
    const char *log_dir;
    int64_t histogram_freq;
    /** Booleans: 0 or 1. */
    int32_t write_graph;
    int32_t write_images;
    ringboard_update_freq update_freq;
    /** Samples between writes when update_freq is RINGBOARD_UPDATE_SAMPLES (at least 1). */
    int64_t update_freq_samples;
    int64_t profile_batch;
    int64_t embeddings_freq;
    /** `embeddings_metadata` as one file for every Embedding layer, or NULL... */
    const char *embeddings_metadata;
    /** ...or as a file per layer: `embeddings_metadata_count` layer names and files. */
    size_t embeddings_metadata_count;
    const char *const *embeddings_metadata_layers;
    const char *const *embeddings_metadata_files;
    /** This process's rank, 0 ≤ rank < world_size. */
    int32_t rank;
    int32_t world_size;
    ringboard_rank_policy rank_policy;
    /** Start `ringboard aggregate` when no aggregator serves the ring directory (0 or 1). */
    int32_t start_aggregator;
    /** The ring directory; NULL: $RINGBOARD_RING_DIR, or /dev/shm/ringboard-<uid> without it. */
    const char *ring_directory;
    /** The `ringboard` executable to start; NULL: $RINGBOARD_AGGREGATE_BIN, beside the program, or on PATH. */
    const char *aggregator_executable;
    /** Since ABI version 2; version 1 callers get RINGBOARD_SEMANTICS_TF20. */
    ringboard_semantics semantics;
} ringboard_options;

/** The defaults of `keras.callbacks.TensorBoard` (TF 2.0): log_dir "logs", write_graph, profile_batch 2, semantics TF 2.0. */
static inline ringboard_options ringboard_options_default(void) {
    ringboard_options options = {0};
    options.abi_version = RINGBOARD_ABI_VERSION;
    options.size = (uint32_t)sizeof(ringboard_options);
    options.write_graph = 1;
    options.update_freq = RINGBOARD_UPDATE_EPOCH;
    options.profile_batch = 2;
    options.world_size = 1;
    options.rank_policy = RINGBOARD_RANK_CHIEF;
    options.start_aggregator = 1;
    return options;
}

/** What `set_params` tells the callback. A negative count means "not given" (Keras's None). */
typedef struct ringboard_params {
    int64_t batch_size;
    int64_t epochs;
    int64_t steps;
    int64_t samples;
    int32_t do_validation;
    /** The metric names Keras will report. */
    size_t metric_count;
    const char *const *metrics;
} ringboard_params;

/** One weight: its variable's name (TF 2.0 style "dense/kernel:0"), shape and values. */
typedef struct ringboard_weight {
    const char *name;
    size_t rank;
    const int64_t *shape;
    ringboard_dtype dtype;
    /** Row-major values, as many as the shape holds; only read during the call. NULL in
        ringboard_set_model means zeros (the values come with ringboard_send_weights). */
    const void *values;
} ringboard_weight;

typedef struct ringboard_layer {
    const char *name;
    /** The Keras class, e.g. "Dense"; "Embedding" layers feed the projector. */
    const char *class_name;
    /** `get_config()` as a JSON object, or NULL. */
    const char *config_json;
    size_t weight_count;
    const ringboard_weight *weights;
} ringboard_layer;

typedef struct ringboard_model {
    const char *name;
    /** `model.to_json()`, or NULL for a Sequential model of the layers. */
    const char *model_json;
    /** A serialized GraphDef for the Graphs tab, or NULL. */
    const uint8_t *graph_def;
    size_t graph_def_size;
    size_t layer_count;
    const ringboard_layer *layers;
} ringboard_model;

/** A run: one callback object. */
typedef struct ringboard_run ringboard_run;

/** RINGBOARD_ABI_VERSION of this library. */
uint32_t ringboard_abi_version(void);

/** The library's version, e.g. "0.4.0". Static storage. */
const char *ringboard_version(void);

/** Why this thread's last failing call failed ("" before any). Valid until the thread's next call. */
const char *ringboard_last_error(void);

/** Opens a run and announces it to the aggregator (starting one if none serves the ring
    directory and options->start_aggregator is set). *run is set on success only. */
ringboard_status ringboard_open(const ringboard_options *options, ringboard_run **run);

/** Warnings about the run (no aggregator could be started, say), one per line; "" for none.
    Static storage owned by the run. */
const char *ringboard_warnings(const ringboard_run *run);

/** Frees the run. Its records stay in the ring for the aggregator; NULL is ignored. */
void ringboard_close(ringboard_run *run);

/** `set_params`. */
ringboard_status ringboard_set_params(ringboard_run *run, const ringboard_params *params);

/** `set_model`: the layers, their weights' names and shapes, the model JSON and graph. Values
    given are the weights' initial values. */
ringboard_status ringboard_set_model(ringboard_run *run, const ringboard_model *model);

/** Whether the end of `epoch` writes histograms, images or embeddings (1) or not (0): only then
    are the weights needed, by ringboard_send_weights before that epoch's end hook. */
int ringboard_reads_weights(const ringboard_run *run, int64_t epoch);

/** Sends every weight's current values, in set_model's order, from `values[i]` (of `dtypes[i]`,
    as many values as set_model's shape holds): one copy, straight into shared memory. The next
    RINGBOARD_EPOCH_END that reads weights uses them. */
ringboard_status ringboard_send_weights(ringboard_run *run, size_t count, const void *const *values, const ringboard_dtype *dtypes);

/** The number of metric `name` for the hooks' logs: registered once per run; the same name
    always gets the same number. Returns UINT32_MAX when name is NULL or not UTF-8. */
uint32_t ringboard_metric(ringboard_run *run, const char *name);

/** A hook with its logs as `count` (metric number, value) pairs: `index` is the batch for the
    batch hooks and the epoch for the epoch hooks (ignored by the others). A batch hook takes no
    lock and allocates nothing. */
ringboard_status ringboard_hook(ringboard_run *run, ringboard_hook_kind kind, int64_t index,
                                const uint32_t *metrics, const double *values, size_t count);

/** Waits until everything this process sent through the run's ring is in the event files, at
    most `timeout_seconds`: RINGBOARD_OK, or RINGBOARD_TIMEOUT (the records stay in the ring and
    are written when an aggregator catches up). */
ringboard_status ringboard_wait_written(ringboard_run *run, double timeout_seconds);

/** A span for the profiled batch's trace (since ABI version 5): `name` ran on the calling thread
    from `start_ns` (nanoseconds since the Unix epoch, CLOCK_REALTIME, as Python's time.time_ns())
    for `duration_ns`. The trace viewer shows it between the traced batch's hooks; the aggregator
    drops spans outside a traced batch, so a trainer may time every batch. */
ringboard_status ringboard_span(ringboard_run *run, const char *name, int64_t start_ns, int64_t duration_ns);

/* --- SummaryWriter (since ABI version 3) ---------------------------------------------------------
 *
 * torch's and tensorboardX's SummaryWriter: each call is one record in the process's ring, and the
 * aggregator makes the summary (a histogram's buckets, an image's PNG) and writes it into the
 * writer's log_dir itself, as torch's writer would. Tags are numbered once (ringboard_writer_tag);
 * a scalar then takes no lock, no lookup and no allocation.
 *
 *     ringboard_writer_options options = ringboard_writer_options_default();
 *     options.log_dir = "runs/exp1";
 *     ringboard_writer *writer;
 *     if (ringboard_writer_open(&options, &writer) != RINGBOARD_OK) { ... ringboard_last_error() ... }
 *     uint32_t loss = ringboard_writer_tag(writer, "loss");
 *     for (int64_t step = 0; step < steps; step++)
 *         ringboard_add_scalar(writer, loss, RINGBOARD_NO_DIRECTORY, value, step, RINGBOARD_NOW);
 *     ringboard_writer_wait_written(writer, 10.0);
 *     ringboard_writer_close(writer);
 *
 * Steps are any int64; a wall time is seconds since the Unix epoch, or RINGBOARD_NOW for the time
 * of the call. A call that fails (a bad tag, NaN in a histogram, a ragged image) sends nothing.
 */

/** A SummaryWriter. */
typedef struct ringboard_writer ringboard_writer;

/** The wall time of the call (any negative wall time means it). */
#define RINGBOARD_NOW (-1.0)
/** A summary in the writer's own directory (not an add_scalars subdirectory). */
#define RINGBOARD_NO_DIRECTORY UINT32_MAX

typedef struct ringboard_writer_options {
    /** RINGBOARD_ABI_VERSION of the header the caller was built with (3 or more). */
    uint32_t abi_version;
    /** sizeof(ringboard_writer_options) of that header. */
    uint32_t size;
    /** The directory: absolute, or relative to the working directory. Required. */
    const char *log_dir;
    /** This process's rank, 0 ≤ rank < world_size. */
    int32_t rank;
    int32_t world_size;
    /** RINGBOARD_RANK_CHIEF, RINGBOARD_RANK_PER_RANK (`<log_dir>/rank_<r>/`) or RINGBOARD_RANK_MEAN
        (a scalar of a tag and step once, the mean over the ranks; other summaries rank 0's). */
    ringboard_rank_policy rank_policy;
    /** Start `ringboard aggregate` when no aggregator serves the ring directory (0 or 1). */
    int32_t start_aggregator;
    /** The ring directory; NULL: $RINGBOARD_RING_DIR, or /dev/shm/ringboard-<uid> without it. */
    const char *ring_directory;
    /** The `ringboard` executable to start; NULL: $RINGBOARD_AGGREGATE_BIN, beside the program, or on PATH. */
    const char *aggregator_executable;
} ringboard_writer_options;

/** Rank 0 of 1, RINGBOARD_RANK_CHIEF, starting an aggregator; log_dir must be set. */
static inline ringboard_writer_options ringboard_writer_options_default(void) {
    ringboard_writer_options options = {0};
    options.abi_version = RINGBOARD_ABI_VERSION;
    options.size = (uint32_t)sizeof(ringboard_writer_options);
    options.world_size = 1;
    options.rank_policy = RINGBOARD_RANK_CHIEF;
    options.start_aggregator = 1;
    return options;
}

/** Opens a writer and announces it to the aggregator. *writer is set on success only. No event
    file is made until the first summary is written. */
ringboard_status ringboard_writer_open(const ringboard_writer_options *options, ringboard_writer **writer);

/** The directory the writer's files go in, absolute (with rank_<r> under RINGBOARD_RANK_PER_RANK),
    and its warnings, one per line ("" for none). Static storage owned by the writer. */
const char *ringboard_writer_log_dir(const ringboard_writer *writer);
const char *ringboard_writer_warnings(const ringboard_writer *writer);

/** Frees the writer. Its records stay in the ring for the aggregator; NULL is ignored. */
void ringboard_writer_close(ringboard_writer *writer);

/** The number of tag (or add_scalars directory) `name`: announced once; the same name always
    gets the same number. UINT32_MAX when the name is NULL, empty, not UTF-8, over 4096 bytes
    or holds a control character. */
uint32_t ringboard_writer_tag(ringboard_writer *writer, const char *name);

/** add_scalar: `value` under tag number `tag`, in the writer's directory (`directory` =
    RINGBOARD_NO_DIRECTORY) or in the subdirectory a ringboard_writer_tag number names
    (add_scalars: torch writes `<main_tag with / as _>_<key>`). No lock, no allocation. */
ringboard_status ringboard_add_scalar(ringboard_writer *writer, uint32_t tag, uint32_t directory, double value, int64_t step,
                                      double wall_time);

/** add_text: `length` bytes of UTF-8 markdown. */
ringboard_status ringboard_add_text(ringboard_writer *writer, uint32_t tag, const char *text, size_t length, int64_t step,
                                    double wall_time);

/** add_histogram with bins='tensorflow': `count` values (at least one, finite) of `dtype`,
    counted by the aggregator as torch counts them. */
ringboard_status ringboard_add_histogram(ringboard_writer *writer, uint32_t tag, const void *values, size_t count,
                                         ringboard_dtype dtype, int64_t step, double wall_time);

/** The most values ringboard_add_histogram takes in one call, of `dtype`: SIZE_MAX (past what a
    ring record holds they go into a weight segment beside the ring; float64 values, before ABI
    version 4, at most what a ring record holds). Any summary larger than a ring record goes
    through a weight segment since ABI version 4. */
size_t ringboard_writer_max_histogram_values(const ringboard_writer *writer, ringboard_dtype dtype);

/** add_histogram_raw: a histogram counted by the caller; `count` limits and counts (at least one). */
ringboard_status ringboard_add_histogram_raw(ringboard_writer *writer, uint32_t tag, double min, double max, double num,
                                             double sum, double sum_squares, const double *bucket_limits,
                                             const double *bucket_counts, size_t count, int64_t step, double wall_time);

/** add_image: height × width × channels bytes, row-major with each pixel's channels together
    (HWC); 1, 3 or 4 channels. PNG-encoded by the aggregator. */
ringboard_status ringboard_add_image(ringboard_writer *writer, uint32_t tag, const uint8_t *pixels, size_t height,
                                     size_t width, size_t channels, int64_t step, double wall_time);

/** add_hparams: TensorBoard's HParams data (experiment, session start and end) in the writer's
    directory or the subdirectory a ringboard_writer_tag number names (torch writes a run of its
    own). `json` is an object: {"hparams": [[name, value], ...], "discrete": {name: [value, ...]},
    "metrics": [tag, ...]}, each value {"n": number}, {"s": "string"} or {"b": true}. The metrics'
    values are the caller's to send, as scalars in the same directory. */
ringboard_status ringboard_add_hparams(ringboard_writer *writer, uint32_t directory, const char *json, int64_t step, double wall_time);

/** add_custom_scalars: the custom scalars dashboard's layout, as a JSON array of categories, in
    order: [[category title, [[chart title, "Multiline", [tag, ...]] or [chart title, "Margin",
    [value, lower, upper]], ...]], ...]. */
ringboard_status ringboard_add_custom_scalars(ringboard_writer *writer, const char *json, int64_t step, double wall_time);

/** add_pr_curve_raw: 6 × columns float32 values, row-major (true positives, false positives, true
    negatives, false negatives, precision, recall), and the number of thresholds to record. */
ringboard_status ringboard_add_pr_curve(ringboard_writer *writer, uint32_t tag, const float *values, size_t columns,
                                        uint32_t num_thresholds, int64_t step, double wall_time);

/* --- Since ABI version 4 --------------------------------------------------------------------- */

/** add_audio: `count` samples (at least one, finite) of `dtype`, one channel in [-1, 1] (louder
    clips are clipped), written as 16-bit WAV at `sample_rate` (1 to 2^32 - 1) per second. */
ringboard_status ringboard_add_audio(ringboard_writer *writer, uint32_t tag, const void *samples, size_t count,
                                     ringboard_dtype dtype, double sample_rate, int64_t step, double wall_time);

/** add_mesh: `batch` × `vertex_count` × 3 vertex coordinates; optionally (NULL for none) as many
    colors (0 to 255) and `batch` × `face_count` × 3 faces (vertex indices), all float32, and the
    Three.js configuration as a JSON object (NULL: {}). Written as the mesh plugin's tensors
    `<tag>_VERTEX`, `<tag>_FACE`, `<tag>_COLOR`. */
ringboard_status ringboard_add_mesh(ringboard_writer *writer, uint32_t tag, const float *vertices, const float *colors,
                                    const float *faces, size_t batch, size_t vertex_count, size_t face_count,
                                    const char *config_json, int64_t step, double wall_time);

/** add_graph: a serialized GraphDef (checked), and a serialized RunMetadata written as tagged run
    metadata "step1" (`run_metadata_length` 0 for none), as torch writes a module's graph. */
ringboard_status ringboard_add_graph(ringboard_writer *writer, const uint8_t *graph_def, size_t length,
                                     const uint8_t *run_metadata, size_t run_metadata_length, double wall_time);

/** add_embedding: `rows` × `columns` float32 values for the projector, written under
    `<log_dir>/<step, 5 digits>/<tag>/` with an entry in `<log_dir>/projector_config.pbtxt`.
    `metadata` (NULL for none) is metadata.tsv's text, `metadata_length` bytes: a line per row, or
    a header line first. `sprite` (NULL for none) is `sprite_side` × `sprite_side` RGB bytes, the
    label images tiled, each `image_height` × `image_width`. */
ringboard_status ringboard_add_embedding(ringboard_writer *writer, uint32_t tag, const float *values, size_t rows,
                                         size_t columns, const char *metadata, size_t metadata_length,
                                         const uint8_t *sprite, size_t sprite_side, size_t image_height,
                                         size_t image_width, int64_t step);

/** add_scalar(new_style=True): the scalars plugin's one-value tensor, float32, or float64 with
    `double_precision` 1, rather than a simple_value. */
ringboard_status ringboard_add_tensor_scalar(ringboard_writer *writer, uint32_t tag, uint32_t directory, double value,
                                             int32_t double_precision, int64_t step, double wall_time);

/** purge_step: a SessionLog START at `step` in the writer's directory, which tells TensorBoard's
    Python loader to drop the events from `step` on written before it (its Rust data server does
    not purge). */
ringboard_status ringboard_writer_purge(ringboard_writer *writer, int64_t step);

/** Waits until everything this process sent through the writer's ring is in the event files,
    at most `timeout_seconds`: RINGBOARD_OK or RINGBOARD_TIMEOUT. */
ringboard_status ringboard_writer_wait_written(ringboard_writer *writer, double timeout_seconds);

#ifdef __cplusplus
}
#endif

#endif /* RINGBOARD_H */
