/*
 * ringboard_abi_test.c: libringboard.so from C, as a C program uses it.
 *
 *     ringboard_abi_test RING_DIR LOG_DIR RINGBOARD_EXECUTABLE TRACE_OUT
 *
 * 1. Refusals: a header newer than the library, bad arguments, NULLs, unknown metric numbers,
 *    each with its status and a message; the message is per thread.
 * 2. A training run through the interface (set_params, set_model, batches with registered
 *    metrics, weights sent at histogram epochs as Float32 and Float64 buffers, validation), with
 *    the aggregator started on demand, then ringboard_wait_written. Every hook is also written
 *    to TRACE_OUT as a replay trace (DESIGN §5), so that the caller can compare the event files
 *    with what the TF 2.0 callback writes for those hooks.
 * 3. ringboard_wait_written on a ring directory no aggregator serves: RINGBOARD_TIMEOUT.
 *
 * Prints "ok" and exits 0 when every check passed; otherwise names each failed check, exit 1.
 */
#include "ringboard.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

static int failures = 0;

#define CHECK(condition, ...)                                   \
    do {                                                        \
        if (!(condition)) {                                     \
            failures++;                                         \
            fprintf(stderr, "FAILED line %d: ", __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                       \
            fprintf(stderr, " [last error: %s]\n", ringboard_last_error()); \
        }                                                       \
    } while (0)

static int contains(const char *text, const char *part) {
    return text != NULL && strstr(text, part) != NULL;
}

/* --- the trace written beside the run ---------------------------------------------------- */

static FILE *trace;

static void trace_logs(const char *const *names, const double *values, size_t count) {
    fprintf(trace, "\"logs\": {");
    for (size_t k = 0; k < count; k++) {
        fprintf(trace, "%s\"%s\": %.17g", k ? ", " : "", names[k], values[k]);
    }
    fprintf(trace, "}");
}

/* A hook through the interface, and the same hook as a trace line. */
static void hook(ringboard_run *run, ringboard_hook_kind kind, const char *name, const char *index_name, int64_t index,
                 const char *const *names, const uint32_t *metrics, const double *values, size_t count) {
    ringboard_status status = ringboard_hook(run, kind, index, metrics, values, count);
    CHECK(status == RINGBOARD_OK, "%s: status %d", name, status);
    fprintf(trace, "{\"hook\": \"%s\", ", name);
    if (index_name) fprintf(trace, "\"%s\": %lld, ", index_name, (long long)index);
    trace_logs(names, values, count);
    fprintf(trace, "}\n");
}

static void trace_weights_json(const char *kernel_name, const float *kernel, const double *bias) {
    fprintf(trace, "[{\"name\": \"dense\", \"class_name\": \"Dense\", \"weights\": [{\"name\": \"%s\", \"shape\": [4, 3], \"values\": [",
            kernel_name);
    for (int k = 0; k < 12; k++) fprintf(trace, "%s%.9g", k ? ", " : "", (double)kernel[k]);
    fprintf(trace, "]}, {\"name\": \"dense/bias:0\", \"shape\": [3], \"values\": [");
    for (int k = 0; k < 3; k++) fprintf(trace, "%s%.17g", k ? ", " : "", bias[k]);
    fprintf(trace, "]}]}]");
}

/* --- 1. refusals --------------------------------------------------------------------------- */

static void *other_thread(void *unused) {
    (void)unused;
    /* A failure on the main thread is not this thread's. */
    return (void *)(uintptr_t)(strcmp(ringboard_last_error(), "") == 0);
}

static void refusals(const char *ring_dir, const char *log_dir) {
    CHECK(ringboard_abi_version() == RINGBOARD_ABI_VERSION, "abi version %u", ringboard_abi_version());
    CHECK(strlen(ringboard_version()) > 0, "empty version");

    ringboard_run *run = NULL;
    ringboard_options options = ringboard_options_default();
    options.log_dir = log_dir;
    options.ring_directory = ring_dir;
    options.start_aggregator = 0;

    ringboard_options newer = options;
    newer.abi_version = RINGBOARD_ABI_VERSION + 1;
    CHECK(ringboard_open(&newer, &run) == RINGBOARD_ABI_MISMATCH && run == NULL, "a newer header is refused");
    CHECK(contains(ringboard_last_error(), "newer than this libringboard.so"), "the mismatch is explained");

    ringboard_options shorter = options;
    shorter.size = 8;
    CHECK(ringboard_open(&shorter, &run) == RINGBOARD_ABI_MISMATCH && run == NULL, "a wrong size is refused");

    /* A caller built against version 1 of the header: its struct ends before `semantics`. */
    ringboard_options older = options;
    older.abi_version = 1;
    older.size = (uint32_t)offsetof(ringboard_options, semantics);
    older.semantics = (ringboard_semantics)99; /* past the end of a version 1 struct: never read */
    CHECK(ringboard_open(&older, &run) == RINGBOARD_OK && run != NULL, "a version 1 caller is served: %s", ringboard_last_error());
    ringboard_close(run);
    run = NULL;
    ringboard_options older_size = options;
    older_size.abi_version = 1;
    CHECK(ringboard_open(&older_size, &run) == RINGBOARD_ABI_MISMATCH && run == NULL, "version 1 with version 2's size");

    ringboard_options semantics = options;
    semantics.semantics = (ringboard_semantics)7;
    CHECK(ringboard_open(&semantics, &run) == RINGBOARD_INVALID_ARGUMENT && run == NULL, "an unknown semantics");
    CHECK(contains(ringboard_last_error(), "semantics"), "the semantics is named");

    ringboard_options negative = options;
    negative.histogram_freq = -1;
    CHECK(ringboard_open(&negative, &run) == RINGBOARD_INVALID_ARGUMENT && run == NULL, "histogram_freq -1");
    CHECK(contains(ringboard_last_error(), "histogram_freq"), "the argument is named");

    pthread_t thread;
    void *clean = NULL;
    pthread_create(&thread, NULL, other_thread, NULL);
    pthread_join(thread, &clean);
    CHECK(clean != NULL, "another thread sees no error");
    CHECK(contains(ringboard_last_error(), "histogram_freq"), "this thread's error stays");

    ringboard_options rank = options;
    rank.rank = 2;
    rank.world_size = 2;
    CHECK(ringboard_open(&rank, &run) == RINGBOARD_INVALID_ARGUMENT, "rank 2 of 2");
    CHECK(contains(ringboard_last_error(), "rank 2 is not in 0..<2"), "the rank is explained");

    ringboard_options samples = options;
    samples.update_freq = RINGBOARD_UPDATE_SAMPLES;
    samples.update_freq_samples = 0;
    CHECK(ringboard_open(&samples, &run) == RINGBOARD_INVALID_ARGUMENT, "update_freq of 0 samples");

    ringboard_options policy = options;
    policy.rank_policy = (ringboard_rank_policy)7;
    CHECK(ringboard_open(&policy, &run) == RINGBOARD_INVALID_ARGUMENT, "an unknown rank policy");

    ringboard_options flag = options;
    flag.write_images = 2;
    CHECK(ringboard_open(&flag, &run) == RINGBOARD_INVALID_ARGUMENT, "write_images 2");

    ringboard_options invalid_utf8 = options;
    invalid_utf8.log_dir = "\xff\xfe";
    CHECK(ringboard_open(&invalid_utf8, &run) == RINGBOARD_INVALID_ARGUMENT, "a log_dir that is not UTF-8");
    CHECK(contains(ringboard_last_error(), "log_dir"), "log_dir is named");

    CHECK(ringboard_open(NULL, &run) == RINGBOARD_INVALID_ARGUMENT, "NULL options");
    CHECK(ringboard_hook(NULL, RINGBOARD_TRAIN_BEGIN, 0, NULL, NULL, 0) == RINGBOARD_INVALID_ARGUMENT, "NULL run");
    ringboard_close(NULL);

    /* A run that histograms needs validation data, as TF 2.0 says. */
    ringboard_options histograms = options;
    histograms.histogram_freq = 1;
    CHECK(ringboard_open(&histograms, &run) == RINGBOARD_OK, "open");
    if (run == NULL) return;
    ringboard_params params = {.batch_size = 32, .epochs = 1, .steps = -1, .samples = -1, .do_validation = 0};
    CHECK(ringboard_set_params(run, &params) == RINGBOARD_CONFIGURATION, "histograms without validation data");
    CHECK(contains(ringboard_last_error(), "needs validation data"), "explained");

    uint32_t loss = ringboard_metric(run, "loss");
    CHECK(loss == 0, "first metric number %u", loss);
    CHECK(ringboard_metric(run, "loss") == 0, "the same name, the same number");
    CHECK(ringboard_metric(run, "") == UINT32_MAX, "an empty name");
    uint32_t unknown = 5;
    double value = 1;
    CHECK(ringboard_hook(run, RINGBOARD_TRAIN_BATCH_END, 0, &unknown, &value, 1) == RINGBOARD_INVALID_ARGUMENT,
          "an unregistered metric number");
    CHECK(contains(ringboard_last_error(), "metric number 5 was never given"), "explained");
    CHECK(ringboard_hook(run, (ringboard_hook_kind)14, 0, NULL, NULL, 0) == RINGBOARD_INVALID_ARGUMENT, "hook 14");
    CHECK(ringboard_hook(run, RINGBOARD_TRAIN_BATCH_END, 0, NULL, NULL, 1) == RINGBOARD_INVALID_ARGUMENT,
          "NULL logs with a count");
    const void *none[1] = {NULL};
    ringboard_dtype f32[1] = {RINGBOARD_FLOAT32};
    CHECK(ringboard_send_weights(run, 1, none, f32) == RINGBOARD_INVALID_ARGUMENT, "weights before set_model");
    /* Spans (ABI version 5): a name and a duration of 0 or more. */
    CHECK(ringboard_span(run, "forward", 1764000000000000000, 250000) == RINGBOARD_OK, "a span");
    CHECK(ringboard_span(run, "", 1764000000000000000, 1) == RINGBOARD_INVALID_ARGUMENT, "a span without a name");
    CHECK(ringboard_span(run, "\xff", 1764000000000000000, 1) == RINGBOARD_INVALID_ARGUMENT, "a name that is not UTF-8");
    CHECK(ringboard_span(run, "forward", 1764000000000000000, -1) == RINGBOARD_INVALID_ARGUMENT, "a negative duration");
    CHECK(contains(ringboard_last_error(), "duration"), "explained");
    CHECK(ringboard_span(NULL, "forward", 0, 0) == RINGBOARD_INVALID_ARGUMENT, "NULL run");
    ringboard_close(run);
}

/* --- 2. a training run --------------------------------------------------------------------- */

static void training(const char *ring_dir, const char *log_dir, const char *executable) {
    ringboard_options options = ringboard_options_default();
    options.log_dir = log_dir;
    options.ring_directory = ring_dir;
    options.aggregator_executable = executable;
    options.update_freq = RINGBOARD_UPDATE_BATCH;
    options.histogram_freq = 1;
    options.write_images = 1;
    options.profile_batch = 0;
    ringboard_run *run = NULL;
    CHECK(ringboard_open(&options, &run) == RINGBOARD_OK, "open the training run");
    if (run == NULL) return;
    CHECK(strcmp(ringboard_warnings(run), "") == 0, "warnings: %s", ringboard_warnings(run));

    fprintf(trace, "{\"tensorboard\": {\"log_dir\": \"%s\", \"update_freq\": \"batch\", \"histogram_freq\": 1, "
                   "\"write_images\": true, \"profile_batch\": 0}}\n", log_dir);

    const char *metric_names[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    ringboard_params params = {.batch_size = 32, .epochs = 2, .steps = 3, .samples = -1, .do_validation = 1,
                               .metric_count = 4, .metrics = metric_names};
    CHECK(ringboard_set_params(run, &params) == RINGBOARD_OK, "set_params");
    fprintf(trace, "{\"hook\": \"set_params\", \"params\": {\"batch_size\": 32, \"epochs\": 2, \"steps\": 3, "
                   "\"do_validation\": true, \"metrics\": [\"loss\", \"accuracy\", \"val_loss\", \"val_accuracy\"]}}\n");

    float kernel[12];
    double bias[3] = {0.5, -0.25, 0.125};  /* exact in Float32: narrowing loses nothing */
    for (int k = 0; k < 12; k++) kernel[k] = (float)(k - 6) / 8.0f;
    int64_t kernel_shape[2] = {4, 3}, bias_shape[1] = {3};
    ringboard_weight weights[2] = {
        {.name = "dense/kernel:0", .rank = 2, .shape = kernel_shape, .dtype = RINGBOARD_FLOAT32, .values = kernel},
        {.name = "dense/bias:0", .rank = 1, .shape = bias_shape, .dtype = RINGBOARD_FLOAT64, .values = bias},
    };
    ringboard_layer layer = {.name = "dense", .class_name = "Dense", .weight_count = 2, .weights = weights};
    ringboard_model model = {.name = "model", .layer_count = 1, .layers = &layer};
    /* A shape with a negative dimension is refused (the shape says how many values are read). */
    int64_t wrong_shape[2] = {-4, 3};
    ringboard_weight wrong = weights[0];
    wrong.shape = wrong_shape;
    ringboard_layer wrong_layer = {.name = "dense", .class_name = "Dense", .weight_count = 1, .weights = &wrong};
    ringboard_model wrong_model = {.name = "model", .layer_count = 1, .layers = &wrong_layer};
    CHECK(ringboard_set_model(run, &wrong_model) == RINGBOARD_INVALID_ARGUMENT, "a negative dimension");
    CHECK(contains(ringboard_last_error(), "negative dimension"), "explained");

    CHECK(ringboard_set_model(run, &model) == RINGBOARD_OK, "set_model");
    fprintf(trace, "{\"hook\": \"set_model\", \"model\": {\"name\": \"model\", \"layers\": ");
    trace_weights_json("dense/kernel:0", kernel, bias);
    fprintf(trace, "}}\n");

    const char *batch_names[] = {"batch", "size", "loss", "accuracy"};
    uint32_t batch_metrics[4];
    for (int k = 0; k < 4; k++) batch_metrics[k] = ringboard_metric(run, batch_names[k]);
    const char *epoch_names[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    uint32_t epoch_metrics[4];
    for (int k = 0; k < 4; k++) epoch_metrics[k] = ringboard_metric(run, epoch_names[k]);
    CHECK(epoch_metrics[0] == batch_metrics[2], "loss has one number");

    hook(run, RINGBOARD_TRAIN_BEGIN, "on_train_begin", NULL, 0, NULL, NULL, NULL, 0);
    for (int64_t epoch = 0; epoch < 2; epoch++) {
        hook(run, RINGBOARD_EPOCH_BEGIN, "on_epoch_begin", "epoch", epoch, NULL, NULL, NULL, 0);
        for (int64_t batch = 0; batch < 3; batch++) {
            double values[4] = {(double)batch, 32, 1.0 / (double)(1 + batch + 3 * epoch), 0.25 * (double)(batch + epoch)};
            hook(run, RINGBOARD_TRAIN_BATCH_BEGIN, "on_train_batch_begin", "batch", batch, batch_names, batch_metrics, values, 2);
            hook(run, RINGBOARD_TRAIN_BATCH_END, "on_train_batch_end", "batch", batch, batch_names, batch_metrics, values, 4);
        }
        hook(run, RINGBOARD_TEST_BEGIN, "on_test_begin", NULL, 0, NULL, NULL, NULL, 0);
        double test_values[4] = {0, 32, 0.75, 0.5};
        hook(run, RINGBOARD_TEST_BATCH_END, "on_test_batch_end", "batch", 0, batch_names, batch_metrics, test_values, 4);
        hook(run, RINGBOARD_TEST_END, "on_test_end", NULL, 0, NULL, NULL, NULL, 0);
        /* The weights as they are at this epoch's end. */
        for (int k = 0; k < 12; k++) kernel[k] += 0.0625f * (float)(epoch + 1);
        bias[1] -= 0.5;
        CHECK(ringboard_reads_weights(run, epoch) == 1, "epoch %lld reads weights", (long long)epoch);
        const void *values[2] = {kernel, bias};
        ringboard_dtype dtypes[2] = {RINGBOARD_FLOAT32, RINGBOARD_FLOAT64};
        CHECK(ringboard_send_weights(run, 1, values, dtypes) == RINGBOARD_INVALID_ARGUMENT, "one weight of two");
        CHECK(ringboard_send_weights(run, 2, values, dtypes) == RINGBOARD_OK, "send_weights");
        fprintf(trace, "{\"hook\": \"set_weights\", \"layers\": ");
        trace_weights_json("dense/kernel:0", kernel, bias);
        fprintf(trace, "}\n");
        double epoch_values[4] = {0.5 / (double)(epoch + 1), 0.6 + 0.1 * (double)epoch, 0.7, 0.4};
        hook(run, RINGBOARD_EPOCH_END, "on_epoch_end", "epoch", epoch, epoch_names, epoch_metrics, epoch_values, 4);
    }
    hook(run, RINGBOARD_TRAIN_END, "on_train_end", NULL, 0, NULL, NULL, NULL, 0);
    ringboard_status written = ringboard_wait_written(run, 60.0);
    CHECK(written == RINGBOARD_OK, "wait_written: status %d", written);
    CHECK(ringboard_wait_written(run, -1) == RINGBOARD_INVALID_ARGUMENT, "a negative timeout");
    ringboard_close(run);
}

/* --- 3. no aggregator ---------------------------------------------------------------------- */

static void unserved(const char *ring_dir, const char *log_dir) {
    ringboard_options options = ringboard_options_default();
    options.log_dir = log_dir;
    options.ring_directory = ring_dir;
    options.start_aggregator = 0;
    ringboard_run *run = NULL;
    CHECK(ringboard_open(&options, &run) == RINGBOARD_OK, "open unserved");
    if (run == NULL) return;
    CHECK(ringboard_hook(run, RINGBOARD_TRAIN_BEGIN, 0, NULL, NULL, 0) == RINGBOARD_OK, "train begin");
    CHECK(ringboard_wait_written(run, 0.2) == RINGBOARD_TIMEOUT, "nobody writes");
    CHECK(contains(ringboard_last_error(), "is an aggregator serving"), "the timeout is explained");
    ringboard_close(run);
}

/* The SummaryWriter functions (ABI versions 3 and 4): a writer's summaries, and what a call refuses. */
static void summary_writer(const char *ring_dir, const char *log_dir, const char *executable) {
    ringboard_writer_options options = ringboard_writer_options_default();
    options.ring_directory = ring_dir;
    options.aggregator_executable = executable;
    ringboard_writer *writer = NULL;
    CHECK(ringboard_writer_open(&options, &writer) == RINGBOARD_INVALID_ARGUMENT && writer == NULL, "no log_dir");
    CHECK(contains(ringboard_last_error(), "log_dir"), "log_dir is named");
    ringboard_writer_options older = options;
    older.abi_version = 2;
    options.log_dir = log_dir;
    older.log_dir = log_dir;
    CHECK(ringboard_writer_open(&older, &writer) == RINGBOARD_ABI_MISMATCH && writer == NULL, "a version 2 caller has no writer");
    ringboard_writer_options policy = options;
    policy.rank_policy = (ringboard_rank_policy)7;
    CHECK(ringboard_writer_open(&policy, &writer) == RINGBOARD_INVALID_ARGUMENT && writer == NULL, "an unknown policy");
    CHECK(ringboard_writer_open(&options, &writer) == RINGBOARD_OK && writer != NULL, "open: %s", ringboard_last_error());
    if (writer == NULL) return;
    CHECK(strcmp(ringboard_writer_log_dir(writer), log_dir) == 0, "log dir %s", ringboard_writer_log_dir(writer));

    uint32_t loss = ringboard_writer_tag(writer, "loss"), notes = ringboard_writer_tag(writer, "notes");
    uint32_t weights = ringboard_writer_tag(writer, "weights"), picture = ringboard_writer_tag(writer, "picture");
    uint32_t curves = ringboard_writer_tag(writer, "curves"), warm = ringboard_writer_tag(writer, "curves_warm");
    CHECK(loss == 0 && notes == 1 && ringboard_writer_tag(writer, "loss") == 0, "tag numbers %u %u", loss, notes);
    CHECK(ringboard_writer_tag(writer, "bad\ttag") == UINT32_MAX && contains(ringboard_last_error(), "control character"), "a control character");
    for (int64_t step = 0; step < 100; step++) {
        CHECK(ringboard_add_scalar(writer, loss, RINGBOARD_NO_DIRECTORY, 1.0 / (double)(step + 1), step, RINGBOARD_NOW) == RINGBOARD_OK,
              "add_scalar %lld", (long long)step);
    }
    CHECK(ringboard_add_scalar(writer, curves, warm, 0.5, 3, 1765000000.0) == RINGBOARD_OK, "add_scalars: %s", ringboard_last_error());
    const char *text = "**bold** text";
    CHECK(ringboard_add_text(writer, notes, text, strlen(text), 1, RINGBOARD_NOW) == RINGBOARD_OK, "add_text");
    float values[1000];
    for (int k = 0; k < 1000; k++) values[k] = (float)(k % 17) - 8.0f;
    CHECK(ringboard_add_histogram(writer, weights, values, 1000, RINGBOARD_FLOAT32, 1, RINGBOARD_NOW) == RINGBOARD_OK, "add_histogram");
    CHECK(ringboard_writer_max_histogram_values(writer, RINGBOARD_FLOAT32) == SIZE_MAX, "float32 histograms of any size");
    double limits[2] = {0, 2}, counts[2] = {1, 3};
    CHECK(ringboard_add_histogram_raw(writer, weights, -1, 2, 4, 5, 9, limits, counts, 2, 2, RINGBOARD_NOW) == RINGBOARD_OK, "add_histogram_raw");
    uint8_t pixels[4 * 5 * 3];
    for (size_t k = 0; k < sizeof pixels; k++) pixels[k] = (uint8_t)(k * 4);
    CHECK(ringboard_add_image(writer, picture, pixels, 4, 5, 3, 1, RINGBOARD_NOW) == RINGBOARD_OK, "add_image");

    uint32_t exp = ringboard_writer_tag(writer, "exp");
    CHECK(ringboard_add_hparams(writer, exp, "{\"hparams\": [[\"lr\", {\"n\": 0.1}], [\"opt\", {\"s\": \"sgd\"}]], "
                                            "\"metrics\": [\"loss\"]}", 0, RINGBOARD_NOW) == RINGBOARD_OK,
          "add_hparams: %s", ringboard_last_error());
    CHECK(ringboard_add_hparams(writer, exp, "{\"hparams\": [[\"lr\"]], \"metrics\": []}", 0, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "[name, value] pair"), "a malformed hparams object: %s", ringboard_last_error());

    CHECK(ringboard_add_custom_scalars(writer, "[[\"Loss\", [[\"both\", \"Multiline\", [\"loss\"]]]]]", 0, RINGBOARD_NOW) == RINGBOARD_OK,
          "add_custom_scalars: %s", ringboard_last_error());
    CHECK(ringboard_add_custom_scalars(writer, "[[\"Loss\", [[\"band\", \"Margin\", [\"a\"]]]]]", 0, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "3 tags"), "a margin chart of one tag: %s", ringboard_last_error());

    uint32_t pr = ringboard_writer_tag(writer, "pr");
    float curve[12] = {5, 3, 2, 1, 0, 1, 1, 3, 0.7f, 0.75f, 0.8f, 0.5f};
    CHECK(ringboard_add_pr_curve(writer, pr, curve, 2, 2, 0, RINGBOARD_NOW) == RINGBOARD_OK, "add_pr_curve: %s", ringboard_last_error());
    CHECK(ringboard_add_pr_curve(writer, pr, curve, 0, 2, 0, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT, "a PR curve of no thresholds");

    /* ABI version 4: audio, a mesh, a graph, an embedding, and a float64 histogram larger than a ring record. */
    uint32_t sound = ringboard_writer_tag(writer, "sound"), cloud = ringboard_writer_tag(writer, "cloud");
    float samples[3] = {0.5f, -0.5f, 0.25f};
    CHECK(ringboard_add_audio(writer, sound, samples, 3, RINGBOARD_FLOAT32, 8000, 1, RINGBOARD_NOW) == RINGBOARD_OK, "add_audio: %s",
          ringboard_last_error());
    float vertices[6] = {0, 0, 0, 1, 1, 1}, colors[6] = {255, 0, 0, 0, 255, 0};
    CHECK(ringboard_add_mesh(writer, cloud, vertices, colors, NULL, 1, 2, 0, "{\"camera\": {\"fov\": 75}}", 1, RINGBOARD_NOW) == RINGBOARD_OK,
          "add_mesh: %s", ringboard_last_error());
    const uint8_t graph[] = {0x0A, 0x03, 0x0A, 0x01, 0x61};
    CHECK(ringboard_add_graph(writer, graph, sizeof graph, NULL, 0, RINGBOARD_NOW) == RINGBOARD_OK, "add_graph: %s", ringboard_last_error());
    float matrix[6] = {1, 2, 3, 4, 5, 6};
    const char *metadata = "a\nb\nc\n";
    CHECK(ringboard_add_embedding(writer, ringboard_writer_tag(writer, "default"), matrix, 3, 2, metadata, strlen(metadata), NULL, 0, 0, 0, 4)
          == RINGBOARD_OK, "add_embedding: %s", ringboard_last_error());
    CHECK(ringboard_add_tensor_scalar(writer, loss, RINGBOARD_NO_DIRECTORY, 0.5, 1, 100, RINGBOARD_NOW) == RINGBOARD_OK,
          "add_tensor_scalar: %s", ringboard_last_error());
    CHECK(ringboard_add_tensor_scalar(writer, loss, RINGBOARD_NO_DIRECTORY, 0.5, 2, 100, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT,
          "double_precision of 2");
    CHECK(ringboard_writer_purge(writer, 1000) == RINGBOARD_OK, "purge: %s", ringboard_last_error());
    CHECK(ringboard_writer_max_histogram_values(writer, RINGBOARD_FLOAT64) == SIZE_MAX, "float64 histograms of any size");
    size_t large_count = 600000;
    double *large = malloc(large_count * sizeof(double));
    for (size_t k = 0; k < large_count; k++) large[k] = (double)(k % 1000) / 7.0;
    CHECK(ringboard_add_histogram(writer, weights, large, large_count, RINGBOARD_FLOAT64, 3, RINGBOARD_NOW) == RINGBOARD_OK,
          "add_histogram of 600 000 float64 values: %s", ringboard_last_error());
    free(large);
    CHECK(ringboard_add_audio(writer, sound, samples, 3, RINGBOARD_FLOAT32, 0, 1, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "sample_rate"), "audio at no rate: %s", ringboard_last_error());
    CHECK(ringboard_add_mesh(writer, cloud, vertices, NULL, NULL, 1, 2, 0, "[1]", 1, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "config_dict"), "a configuration that is not a JSON object: %s", ringboard_last_error());
    CHECK(ringboard_add_graph(writer, graph, 2, NULL, 0, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "GraphDef"), "a cut graph: %s", ringboard_last_error());
    CHECK(ringboard_add_embedding(writer, 0, matrix, 3, 2, metadata, 2, NULL, 0, 0, 0, 4) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "lines for 3 points"), "metadata of one line for three points: %s", ringboard_last_error());

    /* Refused at the call, nothing sent. */
    values[3] = NAN;
    CHECK(ringboard_add_histogram(writer, weights, values, 1000, RINGBOARD_FLOAT32, 1, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "NaN or infinity at index 3"), "NaN in a histogram: %s", ringboard_last_error());
    CHECK(ringboard_add_histogram(writer, weights, values, 0, RINGBOARD_FLOAT32, 1, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT,
          "an empty histogram");
    CHECK(ringboard_add_image(writer, picture, pixels, 4, 5, 2, 1, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT, "two channels");
    CHECK(ringboard_add_scalar(writer, 99, RINGBOARD_NO_DIRECTORY, 1, 0, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "not a number ringboard_writer_tag gave"), "an unknown tag number");
    CHECK(ringboard_add_scalar(writer, loss, RINGBOARD_NO_DIRECTORY, 1, 0, INFINITY) == RINGBOARD_INVALID_ARGUMENT
          && contains(ringboard_last_error(), "walltime"), "an infinite wall time");
    double short_counts[1] = {1};
    CHECK(ringboard_add_histogram_raw(writer, weights, 0, 1, 1, 1, 1, limits, short_counts, 0, 0, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT,
          "a raw histogram without buckets");
    CHECK(ringboard_add_scalar(NULL, loss, RINGBOARD_NO_DIRECTORY, 1, 0, RINGBOARD_NOW) == RINGBOARD_INVALID_ARGUMENT, "NULL writer");

    CHECK(ringboard_writer_wait_written(writer, 30.0) == RINGBOARD_OK, "wait_written: %s", ringboard_last_error());
    ringboard_writer_close(writer);
    ringboard_writer_close(NULL);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s RING_DIR LOG_DIR RINGBOARD_EXECUTABLE TRACE_OUT\n", argv[0]);
        return 2;
    }
    const char *ring_dir = argv[1], *log_dir = argv[2], *executable = argv[3];
    trace = fopen(argv[4], "w");
    if (trace == NULL) {
        perror(argv[4]);
        return 2;
    }
    char unserved_dir[4096], refused_log[4096], writer_log[4096];
    snprintf(unserved_dir, sizeof unserved_dir, "%s-unserved", ring_dir);
    snprintf(refused_log, sizeof refused_log, "%s-refusals", log_dir);
    snprintf(writer_log, sizeof writer_log, "%s-writer", log_dir);

    refusals(unserved_dir, refused_log);
    training(ring_dir, log_dir, executable);
    summary_writer(ring_dir, writer_log, executable);
    unserved(unserved_dir, refused_log);
    fclose(trace);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
