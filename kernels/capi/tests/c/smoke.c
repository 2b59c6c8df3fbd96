/* The C ABI from C: a three-group layer (explicit split, a dilated group, stride 2, bias,
 * ReLU6, clamp) against a plain C reference, whole and task by task, with canaries around
 * the output; then refused calls. Prints "ok" and exits 0 when every check holds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixconv.h"

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__,       \
                    __LINE__, #cond, mixconv_last_error());                                \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

enum { C = 20, G = 3, H = 13, W = 11, S = 2, GUARD = 16 };
static const size_t kernels[G] = {3, 5, 7};
static const size_t dilations[G] = {1, 2, 1};
static const size_t sizes[G] = {5, 6, 9};
static const float canary = -12345.0f;

static float value(unsigned i) { return (float)((i * 2654435761u) % 1000u) / 500.0f - 1.0f; }

int main(void) {
    float *w[G];
    size_t lens[G];
    for (int g = 0, off = 0; g < G; off += (int)sizes[g], g++) {
        lens[g] = kernels[g] * kernels[g] * sizes[g];
        w[g] = malloc(lens[g] * sizeof(float));
        for (size_t i = 0; i < lens[g]; i++) w[g][i] = value((unsigned)(i + 1000 * g));
        (void)off;
    }
    float bias[C];
    for (int c = 0; c < C; c++) bias[c] = value(77u + (unsigned)c);
    float *input = malloc(sizeof(float) * H * W * C);
    for (int i = 0; i < H * W * C; i++) input[i] = value(5u + (unsigned)i);

    mixconv_layer layer = {
        .channels = C, .groups = G, .kernels = kernels, .dilations = dilations,
        .split = MIXCONV_SPLIT_EXPLICIT, .split_sizes = sizes, .stride = S,
        .padding = MIXCONV_PADDING_SYMMETRIC, .pads = NULL,
        .activation = MIXCONV_ACTIVATION_RELU6, .clamp = 1, .clamp_min = 0.25f,
        .clamp_max = 5.0f,
    };
    mixconv_weights weights = {
        .layout = MIXCONV_LAYOUT_HWC, .groups = (const float *const *)w, .lens = lens,
        .bias = bias, .bias_len = C,
    };
    mixconv_shape shape = {.batch = 1, .height = H, .width = W};
    mixconv_plan *plan = NULL;
    CHECK(mixconv_plan_new(&layer, &weights, &shape, MIXCONV_ISA_BEST, &plan) == MIXCONV_OK);
    CHECK(plan != NULL);
    CHECK(mixconv_plan_isa(plan) == mixconv_best_isa());

    size_t dims[4];
    CHECK(mixconv_plan_output_dims(plan, dims) == MIXCONV_OK);
    const size_t oh = (H - 1) / S + 1, ow = (W - 1) / S + 1;
    CHECK(dims[0] == 1 && dims[1] == oh && dims[2] == ow && dims[3] == C);
    const size_t n = mixconv_plan_output_len(plan);
    CHECK(n == oh * ow * C && mixconv_plan_input_len(plan) == (size_t)(H * W * C));

    char text[4096];
    size_t len = mixconv_plan_describe(plan, text, sizeof text);
    CHECK(len > 0 && len < sizeof text && strlen(text) == len);
    CHECK(strstr(text, "k7") != NULL || strstr(text, "7x7") != NULL);

    /* Whole run, with canaries on both sides of the output. */
    float *buf = malloc(sizeof(float) * (n + 2 * GUARD));
    for (size_t i = 0; i < n + 2 * GUARD; i++) buf[i] = canary;
    float *out = buf + GUARD;
    CHECK(mixconv_plan_run(plan, input, (size_t)(H * W * C), out, n, 1) == MIXCONV_OK);
    for (size_t i = 0; i < GUARD; i++) CHECK(buf[i] == canary && out[n + i] == canary);

    /* The reference, in double; tolerance scaled by the sum of |x*w| and |bias|. */
    for (size_t y = 0; y < oh; y++)
        for (size_t x = 0; x < ow; x++)
            for (int g = 0, c0 = 0; g < G; c0 += (int)sizes[g], g++) {
                const int k = (int)kernels[g], d = (int)dilations[g], p = d * (k - 1) / 2;
                for (int cg = 0; cg < (int)sizes[g]; cg++) {
                    const int c = c0 + cg;
                    double sum = bias[c], mag = fabs(bias[c]);
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const int iy = (int)y * S + ky * d - p, ix = (int)x * S + kx * d - p;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                            const double t = (double)input[(iy * W + ix) * C + c] *
                                             (double)w[g][(ky * k + kx) * (int)sizes[g] + cg];
                            sum += t;
                            mag += fabs(t);
                        }
                    double want = sum < 0 ? 0 : sum > 6 ? 6 : sum;
                    want = want < 0.25 ? 0.25 : want > 5.0 ? 5.0 : want;
                    const double got = out[(y * ow + x) * C + (size_t)c];
                    CHECK(fabs(got - want) <= 1e-5 * mag + 1e-6);
                }
            }

    /* Task by task: the same bits. */
    float *parts = malloc(sizeof(float) * n);
    memset(parts, 0, sizeof(float) * n);
    const size_t tasks = mixconv_plan_tasks(plan);
    CHECK(tasks >= 1);
    for (size_t t = 0; t < tasks; t++) {
        size_t start, end;
        CHECK(mixconv_plan_task_output_range(plan, t, &start, &end) == MIXCONV_OK);
        CHECK(start < end && end <= n);
        CHECK(mixconv_plan_run_task(plan, t, input, (size_t)(H * W * C), parts + start,
                                    end - start) == MIXCONV_OK);
    }
    CHECK(memcmp(parts, out, sizeof(float) * n) == 0);

    /* Refused calls name the offending value and write nothing. */
    CHECK(mixconv_plan_run(plan, input, 7, out, n, 1) == MIXCONV_ERROR_INVALID);
    CHECK(strstr(mixconv_last_error(), "7") != NULL);
    CHECK(mixconv_plan_run(plan, input, (size_t)(H * W * C), NULL, n, 1) == MIXCONV_ERROR_NULL);
    CHECK(mixconv_plan_run(plan, input, (size_t)(H * W * C), out, n, 3) == MIXCONV_ERROR_INVALID);
    CHECK(strstr(mixconv_last_error(), "threads 3") != NULL);
    for (size_t i = 0; i < GUARD; i++) CHECK(buf[i] == canary && out[n + i] == canary);
    const size_t even[G] = {3, 4, 7};
    layer.kernels = even;
    mixconv_plan *bad = (mixconv_plan *)1;
    CHECK(mixconv_plan_new(&layer, &weights, &shape, MIXCONV_ISA_BEST, &bad) ==
          MIXCONV_ERROR_INVALID);
    CHECK(bad == NULL);
    CHECK(strstr(mixconv_last_error(), "kernel size 4") != NULL);

    mixconv_plan_free(plan);
    mixconv_plan_free(NULL);
    CHECK(strlen(mixconv_version()) > 0);
    for (int g = 0; g < G; g++) free(w[g]);
    free(input);
    free(buf);
    free(parts);
    printf("ok\n");
    return 0;
}
