//! The C ABI: called from Rust against mixconv's own API (same bits), every refusal with
//! its status and message, and a C program built against the header and static library.

use std::ffi::{CStr, c_char};
use std::path::PathBuf;
use std::process::Command;
use std::ptr::{null, null_mut};

use mixconv::{Activation, Isa, MixConv, Padding, Plan, Shape, Split, Threads, Weights};
use mixconv_capi::*;

fn last_error() -> String {
    // SAFETY: mixconv_last_error returns a NUL-terminated string valid until the next failure.
    unsafe { CStr::from_ptr(mixconv_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed * 104_729) % 1999) as f32 / 999.5 - 1.0)
        .collect()
}

/// A layer described in C terms, with everything its pointers point to.
struct Described {
    kernels: Vec<usize>,
    dilations: Vec<usize>,
    sizes: Vec<usize>,
    pads: Vec<usize>,
    weights: Vec<Vec<f32>>,
    pointers: Vec<*const f32>,
    lens: Vec<usize>,
    bias: Vec<f32>,
    layer: MixconvLayer,
    shape: MixconvShape,
}

impl Described {
    /// 3×3, 5×5 (dilation 2) and 7×7 groups, exponential split of 40 channels, explicit
    /// pads, stride 1, PyTorch-layout weights, bias, SiLU, clamp; a 15×12 input whose
    /// pixels are 48 floats apart.
    fn new() -> Box<Described> {
        let mut d = Box::new(Described {
            kernels: vec![3, 5, 7],
            dilations: vec![1, 2, 1],
            sizes: vec![],
            pads: vec![1, 1, 1, 1, 4, 4, 4, 4, 3, 3, 3, 3],
            weights: vec![],
            pointers: vec![],
            lens: vec![],
            bias: values(40, 9),
            layer: MixconvLayer {
                channels: 40,
                groups: 3,
                kernels: null(),
                dilations: null(),
                split: MIXCONV_SPLIT_EXPONENTIAL,
                split_sizes: null(),
                stride: 1,
                padding: MIXCONV_PADDING_EXPLICIT,
                pads: null(),
                activation: MIXCONV_ACTIVATION_SILU,
                clamp: 1,
                clamp_min: -0.2,
                clamp_max: 3.0,
            },
            shape: MixconvShape {
                batch: 1,
                height: 15,
                width: 12,
                input_pixel_stride: 48,
                output_pixel_stride: 0,
            },
        });
        d.sizes = Split::Exponential.sizes(40, 3).unwrap();
        for (g, (&k, &c)) in d.kernels.iter().zip(&d.sizes).enumerate() {
            d.weights.push(values(k * k * c, g));
        }
        d.pointers = d.weights.iter().map(|w| w.as_ptr()).collect();
        d.lens = d.weights.iter().map(Vec::len).collect();
        d.layer.kernels = d.kernels.as_ptr();
        d.layer.dilations = d.dilations.as_ptr();
        d.layer.pads = d.pads.as_ptr();
        d
    }

    fn weights(&self) -> MixconvWeights {
        MixconvWeights {
            layout: MIXCONV_LAYOUT_PYTORCH,
            groups: self.pointers.as_ptr(),
            lens: self.lens.as_ptr(),
            bias: self.bias.as_ptr(),
            bias_len: self.bias.len(),
        }
    }

    /// The same layer through mixconv's Rust API.
    fn rust_plan(&self, isa: Isa) -> Plan {
        let mut layer = MixConv::new(40, &self.kernels)
            .dilations(&self.dilations)
            .split(Split::Exponential)
            .activation(Activation::Silu)
            .clamp(-0.2, 3.0);
        for (g, p) in self.pads.chunks(4).enumerate() {
            let (top, bottom, left, right) = (p[0], p[1], p[2], p[3]);
            layer = layer.group_padding(
                g,
                Padding::Explicit {
                    top,
                    bottom,
                    left,
                    right,
                },
            );
        }
        let weights = Weights::from_pytorch(&layer, &self.weights)
            .unwrap()
            .with_bias(self.bias.clone());
        let shape = Shape::new(1, 15, 12).input_pixel_stride(48);
        Plan::new(&layer, &weights, shape, isa).unwrap()
    }

    fn plan(&self, isa: i32) -> Result<*mut MixconvPlan, (i32, String)> {
        let mut plan = null_mut();
        // SAFETY: every pointer of the descriptions points into `self`, alive.
        let status =
            unsafe { mixconv_plan_new(&self.layer, &self.weights(), &self.shape, isa, &mut plan) };
        if status == MIXCONV_OK {
            assert!(!plan.is_null());
            Ok(plan)
        } else {
            assert!(plan.is_null(), "a failed mixconv_plan_new must store NULL");
            Err((status, last_error()))
        }
    }
}

fn isa_code(isa: Isa) -> i32 {
    match isa {
        Isa::Portable => MIXCONV_ISA_PORTABLE,
        Isa::Avx2 => MIXCONV_ISA_AVX2,
        Isa::Avx512 => MIXCONV_ISA_AVX512,
    }
}

#[test]
fn runs_give_the_bits_of_the_rust_api_on_every_isa() {
    let d = Described::new();
    for isa in mixconv::available_isas() {
        let plan = d.plan(isa_code(isa)).unwrap();
        let rust = d.rust_plan(isa);
        // SAFETY (each call): `plan` is live; buffers are as long as the lengths given.
        unsafe {
            assert_eq!(mixconv_plan_isa(plan), isa_code(isa));
            assert_eq!(mixconv_plan_input_len(plan), rust.input_len());
            assert_eq!(mixconv_plan_output_len(plan), rust.output_len());
            let mut dims = [0; 4];
            assert_eq!(
                mixconv_plan_output_dims(plan, dims.as_mut_ptr()),
                MIXCONV_OK
            );
            let (n, h, w, c) = rust.output_dims();
            assert_eq!(dims, [n, h, w, c]);

            let input = values(rust.input_len(), 3);
            let mut want = vec![0.0; rust.output_len()];
            rust.run_with(&input, &mut want, Threads::Single).unwrap();
            for threads in [1, 0] {
                let mut got = vec![f32::NAN; rust.output_len()];
                let status = mixconv_plan_run(
                    plan,
                    input.as_ptr(),
                    input.len(),
                    got.as_mut_ptr(),
                    got.len(),
                    threads,
                );
                assert_eq!(status, MIXCONV_OK, "{isa}: {}", last_error());
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{isa}, threads {threads}"
                );
            }

            let mut parts = vec![f32::NAN; rust.output_len()];
            assert_eq!(mixconv_plan_tasks(plan), rust.tasks().len());
            for task in 0..mixconv_plan_tasks(plan) {
                let (mut start, mut end) = (0, 0);
                assert_eq!(
                    mixconv_plan_task_output_range(plan, task, &mut start, &mut end),
                    MIXCONV_OK
                );
                assert_eq!(start..end, rust.task_output_range(task).unwrap());
                let part = &mut parts[start..end];
                let status = mixconv_plan_run_task(
                    plan,
                    task,
                    input.as_ptr(),
                    input.len(),
                    part.as_mut_ptr(),
                    part.len(),
                );
                assert_eq!(status, MIXCONV_OK, "{}", last_error());
            }
            assert_eq!(
                parts.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            mixconv_plan_free(plan);
        }
    }
}

/// Runs `plan` on an output with canaries on both sides, expecting a refusal whose message
/// contains `words`; checks the canaries and the output are untouched.
///
/// # Safety
/// `plan` is null or live; `input` and the lengths are the caller's to get wrong on purpose
/// only where mixconv refuses before reading.
unsafe fn refused_run(
    plan: *const MixconvPlan,
    input: *const f32,
    input_len: usize,
    output_len: usize,
    threads: usize,
    status: i32,
    words: &str,
) {
    let mut buf = vec![-7.0f32; output_len + 32];
    let out = buf[16..].as_mut_ptr();
    // SAFETY: `out` holds output_len + 16 floats.
    let got = unsafe { mixconv_plan_run(plan, input, input_len, out, output_len, threads) };
    assert_eq!(got, status, "{words}: {}", last_error());
    assert!(
        last_error().contains(words),
        "{:?} lacks {words:?}",
        last_error()
    );
    assert!(
        buf.iter().all(|&v| v == -7.0),
        "{words}: a refused run wrote"
    );
}

#[test]
fn refused_runs_name_the_value_and_write_nothing() {
    let d = Described::new();
    let plan = d.plan(MIXCONV_ISA_BEST).unwrap();
    // SAFETY (each call): `plan` is live; each buffer holds at least the length given, except
    // where the call is refused by its checks before any access.
    unsafe {
        let n_in = mixconv_plan_input_len(plan);
        let n_out = mixconv_plan_output_len(plan);
        let input = values(n_in + 1, 1);
        refused_run(
            plan,
            input.as_ptr(),
            5,
            n_out,
            1,
            MIXCONV_ERROR_INVALID,
            "5",
        );
        refused_run(
            plan,
            input.as_ptr(),
            n_in,
            n_out - 1,
            1,
            MIXCONV_ERROR_INVALID,
            &(n_out - 1).to_string(),
        );
        refused_run(
            plan,
            null(),
            n_in,
            n_out,
            1,
            MIXCONV_ERROR_NULL,
            "input is NULL",
        );
        refused_run(
            null(),
            input.as_ptr(),
            n_in,
            n_out,
            1,
            MIXCONV_ERROR_NULL,
            "plan is NULL",
        );
        refused_run(
            plan,
            input.as_ptr(),
            n_in,
            n_out,
            2,
            MIXCONV_ERROR_INVALID,
            "threads 2",
        );
        let misaligned = input.as_ptr().cast::<u8>().add(1).cast::<f32>();
        refused_run(
            plan,
            misaligned,
            n_in,
            n_out,
            1,
            MIXCONV_ERROR_INVALID,
            "not aligned to 4 bytes",
        );

        let mut out = vec![0.0f32; n_out];
        assert_eq!(
            mixconv_plan_run(plan, input.as_ptr(), n_in, null_mut(), n_out, 1),
            MIXCONV_ERROR_NULL
        );
        assert!(last_error().contains("output is NULL"));
        // Overlapping input and output: refused before either is touched.
        let mut shared = values(n_in + n_out, 2);
        let before = shared.clone();
        let p = shared.as_mut_ptr();
        assert_eq!(
            mixconv_plan_run(plan, p, n_in, p.add(n_in - 1), n_out, 1),
            MIXCONV_ERROR_INVALID
        );
        assert!(last_error().contains("overlap"), "{}", last_error());
        assert_eq!(shared, before);

        let tasks = mixconv_plan_tasks(plan);
        let (mut s, mut e) = (0, 0);
        assert_eq!(
            mixconv_plan_task_output_range(plan, tasks, &mut s, &mut e),
            MIXCONV_ERROR_INVALID
        );
        assert!(
            last_error().contains(&format!("task {tasks}")),
            "{}",
            last_error()
        );
        assert_eq!(
            mixconv_plan_task_output_range(plan, 0, null_mut(), &mut e),
            MIXCONV_ERROR_NULL
        );
        let status = mixconv_plan_run_task(plan, 0, input.as_ptr(), n_in, out.as_mut_ptr(), 3);
        assert_eq!(
            status, MIXCONV_ERROR_INVALID,
            "3 floats are not task 0's part"
        );
        assert!(last_error().contains("task 0 output"), "{}", last_error());
        assert_eq!(
            mixconv_plan_output_dims(plan, null_mut()),
            MIXCONV_ERROR_NULL
        );
        assert_eq!(
            mixconv_plan_output_dims(null(), out.as_mut_ptr().cast()),
            MIXCONV_ERROR_NULL
        );
        assert!(out.iter().all(|&v| v == 0.0));

        // A null plan answers 0 (or -1) rather than reading through it.
        assert_eq!(mixconv_plan_input_len(null()), 0);
        assert_eq!(mixconv_plan_output_len(null()), 0);
        assert_eq!(mixconv_plan_tasks(null()), 0);
        assert_eq!(mixconv_plan_isa(null()), -1);
        assert_eq!(mixconv_plan_describe(null(), null_mut(), 0), 0);
        mixconv_plan_free(plan);
        mixconv_plan_free(null_mut());
    }
}

/// A change that spoils a description.
type Mutation = Box<dyn Fn(&mut Described)>;

#[test]
fn refused_plans_name_the_value() {
    let cases: Vec<(&str, Mutation, i32, &str)> = vec![
        (
            "even kernel",
            Box::new(|d| d.kernels[1] = 4),
            MIXCONV_ERROR_INVALID,
            "kernel size 4",
        ),
        (
            "zero stride",
            Box::new(|d| d.layer.stride = 0),
            MIXCONV_ERROR_INVALID,
            "stride 0",
        ),
        (
            "zero dilation",
            Box::new(|d| d.dilations[2] = 0),
            MIXCONV_ERROR_INVALID,
            "group 2: dilation 0",
        ),
        (
            "no groups",
            Box::new(|d| d.layer.groups = 0),
            MIXCONV_ERROR_INVALID,
            "no groups",
        ),
        (
            "null kernels",
            Box::new(|d| d.layer.kernels = null()),
            MIXCONV_ERROR_NULL,
            "layer.kernels is NULL",
        ),
        (
            "null pads",
            Box::new(|d| d.layer.pads = null()),
            MIXCONV_ERROR_NULL,
            "layer.pads is NULL",
        ),
        (
            "split code",
            Box::new(|d| d.layer.split = 9),
            MIXCONV_ERROR_INVALID,
            "layer.split 9",
        ),
        (
            "padding code",
            Box::new(|d| d.layer.padding = -1),
            MIXCONV_ERROR_INVALID,
            "layer.padding -1",
        ),
        (
            "activation code",
            Box::new(|d| d.layer.activation = 5),
            MIXCONV_ERROR_INVALID,
            "layer.activation 5",
        ),
        (
            "explicit split sum",
            Box::new(|d| {
                d.sizes = vec![20, 10, 9];
                d.layer.split = MIXCONV_SPLIT_EXPLICIT;
                d.layer.split_sizes = d.sizes.as_ptr();
            }),
            MIXCONV_ERROR_INVALID,
            "39",
        ),
        (
            "weight length",
            Box::new(|d| d.lens[2] -= 1),
            MIXCONV_ERROR_INVALID,
            "group 2 weights",
        ),
        (
            "null weights",
            Box::new(|d| d.pointers[1] = null()),
            MIXCONV_ERROR_NULL,
            "weights.groups[1] is NULL",
        ),
        (
            "bias length",
            Box::new(|d| {
                d.bias.pop();
            }),
            MIXCONV_ERROR_INVALID,
            "39",
        ),
        (
            "empty input",
            Box::new(|d| d.shape.height = 0),
            MIXCONV_ERROR_INVALID,
            "height",
        ),
        (
            "pixel stride",
            Box::new(|d| d.shape.input_pixel_stride = 39),
            MIXCONV_ERROR_INVALID,
            "39",
        ),
        (
            "clamp",
            Box::new(|d| {
                d.layer.clamp_min = 2.0;
                d.layer.clamp_max = 1.0;
            }),
            MIXCONV_ERROR_INVALID,
            "min 2",
        ),
        (
            "overflow",
            Box::new(|d| d.shape.batch = usize::MAX / 2),
            MIXCONV_ERROR_INVALID,
            "overflow",
        ),
    ];
    for (name, mutate, status, words) in cases {
        let mut d = Described::new();
        mutate(&mut d);
        let (got, message) = d
            .plan(MIXCONV_ISA_BEST)
            .err()
            .unwrap_or_else(|| panic!("{name}: planned"));
        assert_eq!(got, status, "{name}: {message}");
        assert!(
            message.contains(words),
            "{name}: {message:?} lacks {words:?}"
        );
    }

    let d = Described::new();
    assert_eq!(
        d.plan(7).unwrap_err(),
        (
            MIXCONV_ERROR_INVALID,
            "isa 7 is not one of MIXCONV_ISA_* (0 to 3)".into()
        )
    );
    let mut weights = d.weights();
    weights.layout = 2;
    let mut plan = null_mut();
    // SAFETY: the descriptions point into `d`, alive; `plan` is writable.
    unsafe {
        assert_eq!(
            mixconv_plan_new(&d.layer, &weights, &d.shape, 0, &mut plan),
            MIXCONV_ERROR_INVALID
        );
        assert!(
            last_error().contains("weights.layout 2"),
            "{}",
            last_error()
        );
        assert_eq!(
            mixconv_plan_new(null(), &weights, &d.shape, 0, &mut plan),
            MIXCONV_ERROR_NULL
        );
        assert_eq!(last_error(), "layer is NULL");
        assert_eq!(
            mixconv_plan_new(&d.layer, &d.weights(), &d.shape, 0, null_mut()),
            MIXCONV_ERROR_NULL
        );
        assert_eq!(last_error(), "out is NULL");
    }
}

#[test]
fn enumerations_match_mixconv() {
    assert_eq!(Activation::ALL.len(), 5);
    let codes = [
        MIXCONV_ACTIVATION_NONE,
        MIXCONV_ACTIVATION_RELU,
        MIXCONV_ACTIVATION_RELU6,
        MIXCONV_ACTIVATION_SILU,
        MIXCONV_ACTIVATION_HARDSWISH,
    ];
    let names = ["none", "relu", "relu6", "silu", "hardswish"];
    for ((code, name), act) in codes.iter().zip(names).zip(Activation::ALL) {
        assert_eq!((*code as usize, name), (act as usize, act.name()));
    }
    assert_eq!(
        mixconv_best_isa(),
        isa_code(mixconv::default_isa().unwrap())
    );
    // SAFETY: mixconv_version returns a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(mixconv_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn describe_truncates_at_a_character_boundary() {
    let d = Described::new();
    let plan = d.plan(MIXCONV_ISA_BEST).unwrap();
    // SAFETY (each call): `plan` is live; each buffer holds the length given.
    unsafe {
        let whole = d.rust_plan(mixconv::default_isa().unwrap()).to_string();
        let n = mixconv_plan_describe(plan, null_mut(), 0);
        assert_eq!(n, whole.len());
        assert!(whole.contains("mixconv plan"), "{whole}");
        for room in [1, 2, 17, n / 2, n, n + 1, n + 10] {
            let mut buf = vec![b'#' as c_char; room + 4];
            assert_eq!(mixconv_plan_describe(plan, buf.as_mut_ptr(), room), n);
            let text = CStr::from_ptr(buf.as_ptr()).to_str().expect("valid UTF-8");
            // The longest prefix that fits room − 1 bytes and ends on a character boundary
            // (a character is at most 4 bytes).
            let fit = (room - 1).min(n);
            assert!(whole.starts_with(text), "{room}: {text:?}");
            assert!(
                text.len() <= fit && text.len() + 4 > fit,
                "{room}: {} bytes",
                text.len()
            );
            assert!(
                buf[room..].iter().all(|&b| b == b'#' as c_char),
                "wrote past {room} bytes"
            );
        }
        mixconv_plan_free(plan);
    }
}

/// The static library built with this test: cargo puts it beside the test binary, in
/// `target/<profile>/deps` (copied up to `target/<profile>` only by `cargo build`).
fn static_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.with_file_name("libmixconv_capi.a")
}

fn manifest(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn a_c_program_runs_against_the_header_and_static_library() {
    let lib = static_library();
    assert!(lib.exists(), "{} not built", lib.display());
    let exe = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mixconv_smoke");
    // MIXCONV_CFLAGS: extra flags, e.g. -fsanitize=address where the library was built so.
    let extra = std::env::var("MIXCONV_CFLAGS").unwrap_or_default();
    let status = Command::new("cc")
        .args([
            "-std=c11",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
        ])
        .args(extra.split_whitespace())
        .arg("-I")
        .arg(manifest("include"))
        .arg(manifest("tests/c/smoke.c"))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-lgcc_s", "-o"])
        .arg(&exe)
        .status()
        .expect("run cc (install gcc)");
    assert!(status.success(), "cc failed");
    let out = Command::new(&exe).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
}

#[test]
fn the_header_compiles_as_cpp() {
    let status = Command::new("c++")
        .args([
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-fsyntax-only",
            "-x",
            "c++",
        ])
        .arg(manifest("include/mixconv.h"))
        .status()
        .expect("run c++ (install g++)");
    assert!(status.success());
}
