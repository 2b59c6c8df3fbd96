/*
 * mixconv.h: the C ABI of mixconv, mixed depthwise convolution (MixConv) on NHWC f32
 * tensors with hand-optimized SIMD kernels (AVX2, AVX-512, portable).
 *
 * Link libmixconv_capi.a (cargo build --release -p mixconv-capi; on Linux also
 * -lpthread -ldl -lm -lgcc_s) or libmixconv_capi.so.
 *
 * Describe a layer, its weights and its tensor shape, plan it once (mixconv_plan_new), run
 * the plan as often as needed (mixconv_plan_run, or task by task on your own threads),
 * free it. Every function that can fail returns a status; mixconv_last_error() then names
 * the offending value. Nothing outside the buffers given is read or written.
 */
#ifndef MIXCONV_H
#define MIXCONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define MIXCONV_OK 0
#define MIXCONV_ERROR_INVALID 1  /* a layer, weights, shape, buffer or argument was refused */
#define MIXCONV_ERROR_NULL 2     /* a pointer that must not be NULL was NULL */
#define MIXCONV_ERROR_ISA 3      /* the requested instruction set cannot run on this CPU */
#define MIXCONV_ERROR_INTERNAL 4 /* a bug in mixconv */

/* Instruction sets. */
#define MIXCONV_ISA_BEST 0 /* the widest this CPU runs */
#define MIXCONV_ISA_PORTABLE 1
#define MIXCONV_ISA_AVX2 2
#define MIXCONV_ISA_AVX512 3

/* Channel splits. */
#define MIXCONV_SPLIT_EQUAL 0       /* C / g each, the remainder to group 0 */
#define MIXCONV_SPLIT_EXPONENTIAL 1 /* group i gets C / 2^(i+1), the last the rest */
#define MIXCONV_SPLIT_EXPLICIT 2    /* mixconv_layer.split_sizes */

/* Paddings. */
#define MIXCONV_PADDING_SYMMETRIC 0 /* dilation*(K-1)/2 on every side (PyTorch) */
#define MIXCONV_PADDING_TF_SAME 1   /* TensorFlow SAME */
#define MIXCONV_PADDING_EXPLICIT 2  /* mixconv_layer.pads */

/* Activations, applied after the bias. */
#define MIXCONV_ACTIVATION_NONE 0
#define MIXCONV_ACTIVATION_RELU 1
#define MIXCONV_ACTIVATION_RELU6 2
#define MIXCONV_ACTIVATION_SILU 3 /* swish, MixNet's */
#define MIXCONV_ACTIVATION_HARDSWISH 4

/* Weight layouts, per group. */
#define MIXCONV_LAYOUT_HWC 0     /* [K][K][C_g] (TensorFlow's depthwise layout) */
#define MIXCONV_LAYOUT_PYTORCH 1 /* [C_g][1][K][K] */

/* A layer: `groups` groups in channel order, each with its own odd kernel size. */
typedef struct mixconv_layer {
    size_t channels;
    size_t groups;
    const size_t *kernels;     /* [groups] odd kernel sizes */
    const size_t *dilations;   /* [groups], or NULL: 1 each */
    int32_t split;             /* MIXCONV_SPLIT_* */
    const size_t *split_sizes; /* [groups] with MIXCONV_SPLIT_EXPLICIT, else ignored */
    size_t stride;             /* of every group */
    int32_t padding;           /* MIXCONV_PADDING_* */
    const size_t *pads;        /* [groups][4] top, bottom, left, right with
                                  MIXCONV_PADDING_EXPLICIT, else ignored */
    int32_t activation;        /* MIXCONV_ACTIVATION_* */
    int32_t clamp;             /* nonzero: clamp to [clamp_min, clamp_max] after it */
    float clamp_min;
    float clamp_max;
} mixconv_layer;

/* A layer's weights; copied (packed) by mixconv_plan_new. */
typedef struct mixconv_weights {
    int32_t layout;             /* MIXCONV_LAYOUT_* */
    const float *const *groups; /* [groups] pointers to K*K*C_g floats */
    const size_t *lens;         /* [groups] lengths of those arrays, in floats */
    const float *bias;          /* [bias_len] one per channel, or NULL: none */
    size_t bias_len;
} mixconv_weights;

/* The NHWC tensors a plan runs on. */
typedef struct mixconv_shape {
    size_t batch;
    size_t height; /* input height */
    size_t width;  /* input width */
    size_t input_pixel_stride;  /* floats between input pixels; 0: the layer's channels */
    size_t output_pixel_stride; /* floats between output pixels; 0: the layer's channels */
} mixconv_shape;

/* A planned layer. Read-only once made: any number of threads may run it at once, each on
   its own output. */
typedef struct mixconv_plan mixconv_plan;

/* Plans a layer for a shape and instruction set; *out receives the plan (NULL on failure). */
int32_t mixconv_plan_new(const mixconv_layer *layer, const mixconv_weights *weights,
                         const mixconv_shape *shape, int32_t isa, mixconv_plan **out);
/* Frees a plan (nothing for NULL). */
void mixconv_plan_free(mixconv_plan *plan);

/* Floats of a dense input / output tensor (0 for NULL). Shorter buffers that end at the
   last pixel's last channel are accepted too. */
size_t mixconv_plan_input_len(const mixconv_plan *plan);
size_t mixconv_plan_output_len(const mixconv_plan *plan);
/* Output batch, height, width, channels into dims[0..4]. */
int32_t mixconv_plan_output_dims(const mixconv_plan *plan, size_t dims[4]);
/* The plan's MIXCONV_ISA_* (never BEST); -1 for NULL. */
int32_t mixconv_plan_isa(const mixconv_plan *plan);
/* What MIXCONV_ISA_BEST picks on this CPU. */
int32_t mixconv_best_isa(void);
/* The plan as text (groups, kernels, microkernels), snprintf-style: writes at most
   buf_len bytes including the NUL, returns the whole length. */
size_t mixconv_plan_describe(const mixconv_plan *plan, char *buf, size_t buf_len);

/* Runs the layer. threads: 1 = the calling thread, 0 = every core. Only the layer's
   channels of each output pixel are written. Input and output must not overlap. */
int32_t mixconv_plan_run(const mixconv_plan *plan, const float *input, size_t input_len,
                         float *output, size_t output_len, size_t threads);

/* For engines with their own threads: the output is cut into tasks of about equal cost;
   run each once, in any order, on any thread. Task `task` writes elements [start, end) of
   the whole output tensor; pass it exactly that part. */
size_t mixconv_plan_tasks(const mixconv_plan *plan);
int32_t mixconv_plan_task_output_range(const mixconv_plan *plan, size_t task, size_t *start,
                                       size_t *end);
int32_t mixconv_plan_run_task(const mixconv_plan *plan, size_t task, const float *input,
                              size_t input_len, float *output_part, size_t output_part_len);

/* The message of the last failed call on this thread ("" if none), naming the offending
   value; valid until the next failed call on this thread. */
const char *mixconv_last_error(void);
/* The library version, e.g. "0.1.0". */
const char *mixconv_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MIXCONV_H */
