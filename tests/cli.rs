//! The `mixconv` command end to end: `run` round trips on .npy/.npz files written here (stored
//! and deflated archives) against `reference::mixconv`, every `run` error message with the
//! output left unwritten, `verify`'s summary line and exit code, and the `--json` keys.

use mixconv::{Activation, MixConv, Padding, Shape, Split, Weights, bench, reference};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mixconv");

/// A fresh directory under the system temp dir, unique to this process and test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixconv-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mixconv(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("running mixconv")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `.npy` bytes of `shape` with `descr` (`<f4` or `<f8`) from f32 values.
fn npy(shape: &[usize], data: &[f32], descr: &str) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for &v in data {
        match descr {
            "<f8" => out.extend_from_slice(&(v as f64).to_le_bytes()),
            _ => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A zip of `name.npy` members, stored (as `np.savez`) or deflated (as `np.savez_compressed`).
fn npz(members: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in members {
        let name = format!("{name}.npy");
        let body = if deflate {
            miniz_oxide::deflate::compress_to_vec(data, 6)
        } else {
            data.clone()
        };
        let method: u16 = if deflate { 8 } else { 0 };
        let offset = out.len() as u32;
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&method.to_le_bytes());
            v.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
            v.extend_from_slice(&crc32(data).to_le_bytes());
            v.extend_from_slice(&(body.len() as u32).to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&body);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let n = (members.len() as u16).to_le_bytes();
    out.extend_from_slice(&n);
    out.extend_from_slice(&n);
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Reads an f32 `.npy` written by the command: (shape, data).
fn read_npy(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    assert!(header.contains("'descr': '<f4'"), "{header}");
    let shape_text = header.split("'shape': (").nth(1).unwrap();
    let shape: Vec<usize> = shape_text[..shape_text.find(')').unwrap()]
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let data = bytes[10 + len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (shape, data)
}

/// One layer's files and what the reference computes from them.
struct Fixture {
    dir: PathBuf,
    layer: MixConv,
    weights: Weights,
    shape: Shape,
    input: Vec<f32>,
}

impl Fixture {
    fn new(test: &str, layer: MixConv, shape: Shape, bias: bool) -> Fixture {
        let mut weights = bench::random_weights(&layer, 5).unwrap();
        if bias {
            weights = weights.with_bias(bench::random_vec(layer.channels(), 6));
        }
        let len = shape.batch * shape.height * shape.width * layer.channels();
        Fixture {
            dir: temp_dir(test),
            input: bench::random_vec(len, 7),
            layer,
            weights,
            shape,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    /// Writes the input (4-D, or 3-D when `three_d`) and the weights archive.
    fn write(&self, three_d: bool, deflate: bool) {
        let s = self.shape;
        let c = self.layer.channels();
        let dims = if three_d {
            vec![s.height, s.width, c]
        } else {
            vec![s.batch, s.height, s.width, c]
        };
        std::fs::write(self.path("x.npy"), npy(&dims, &self.input, "<f4")).unwrap();
        let sizes = self.layer.group_channels().unwrap();
        let mut members: Vec<(String, Vec<u8>)> = sizes
            .iter()
            .zip(self.layer.kernels())
            .enumerate()
            .map(|(g, (&cg, &k))| {
                (
                    format!("g{g}"),
                    npy(&[k, k, cg], self.weights.group(g), "<f4"),
                )
            })
            .collect();
        if let Some(b) = self.weights.bias() {
            members.push(("bias".into(), npy(&[c], b, "<f4")));
        }
        let members: Vec<(&str, Vec<u8>)> = members
            .iter()
            .map(|(n, d)| (n.as_str(), d.clone()))
            .collect();
        std::fs::write(self.path("w.npz"), npz(&members, deflate)).unwrap();
    }

    /// Checks the command's output file against the reference, element by element.
    fn check_output(&self, three_d: bool) {
        let (shape, got) = read_npy(&self.dir.join("y.npy"));
        let (oh, ow) = self
            .layer
            .output_size(self.shape.height, self.shape.width)
            .unwrap();
        let c = self.layer.channels();
        let dims = if three_d {
            vec![oh, ow, c]
        } else {
            vec![self.shape.batch, oh, ow, c]
        };
        assert_eq!(shape, dims);
        let mut expected = vec![0.0; got.len()];
        reference::mixconv(
            &self.layer,
            &self.weights,
            self.shape,
            &self.input,
            &mut expected,
        )
        .unwrap();
        let magnitude =
            reference::magnitudes(&self.layer, &self.weights, self.shape, &self.input).unwrap();
        for (i, ((g, e), m)) in got.iter().zip(&expected).zip(&magnitude).enumerate() {
            assert!(
                (g - e).abs() <= 4e-5 * m + 1e-6,
                "output {i}: {g} vs reference {e}"
            );
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_args<'a>(f: &'a Fixture, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        "--input",
        &f.path("x.npy"),
        "--weights",
        &f.path("w.npz"),
        "--output",
        &f.path("y.npy"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run(f: &Fixture, extra: &[&str]) -> Output {
    let args = run_args(f, extra);
    mixconv(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn run_round_trip_stored_npz_with_bias_dilations_and_stride() {
    let layer = MixConv::new(12, &[3, 5, 7]).dilations(&[1, 1, 2]).stride(2);
    let f = Fixture::new("round-trip-stored", layer, Shape::new(2, 9, 11), true);
    f.write(false, false);
    let out = run(
        &f,
        &[
            "--kernels",
            "3,5,7",
            "--dilations",
            "1,1,2",
            "--stride",
            "2",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    f.check_output(false);
}

#[test]
fn run_round_trip_deflated_npz_3d_input_tf_same_exp_split_relu6() {
    let layer = MixConv::new(16, &[3, 5, 9])
        .split(Split::Exponential)
        .padding(Padding::TfSame)
        .stride(2)
        .activation(Activation::Relu6);
    let f = Fixture::new("round-trip-deflated", layer, Shape::new(1, 10, 7), false);
    f.write(true, true);
    let out = run(
        &f,
        &[
            "--kernels",
            "3,5,9",
            "--split",
            "exp",
            "--padding",
            "tf-same",
            "--stride",
            "2",
            "--activation",
            "relu6",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    f.check_output(true);
}

#[test]
fn run_round_trip_explicit_split() {
    let layer = MixConv::new(10, &[1, 3]).split(Split::Explicit(vec![3, 7]));
    let f = Fixture::new("round-trip-explicit", layer, Shape::new(1, 5, 6), true);
    f.write(false, false);
    let out = run(&f, &["--kernels", "1,3", "--split", "3,7"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    f.check_output(false);
}

/// Runs with `extra` flags after `prepare` spoiled the files; expects a one-line error
/// containing `message`, a non-zero exit and no output file.
fn expect_error(test: &str, prepare: impl FnOnce(&Fixture), extra: &[&str], message: &str) {
    let layer = MixConv::new(12, &[3, 5, 7]);
    let f = Fixture::new(test, layer, Shape::new(1, 6, 6), true);
    f.write(false, false);
    prepare(&f);
    let out = run(&f, extra);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{test}: succeeded");
    assert!(
        stderr.contains(message),
        "{test}: {stderr:?} lacks {message:?}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{test}: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{test}: {stderr:?}");
    assert!(
        !f.dir.join("y.npy").exists(),
        "{test}: output written on error"
    );
}

const K357: [&str; 2] = ["--kernels", "3,5,7"];

#[test]
fn error_input_of_wrong_dtype() {
    expect_error(
        "err-dtype",
        |f| std::fs::write(f.path("x.npy"), npy(&[1, 6, 6, 12], &f.input, "<f8")).unwrap(),
        &K357,
        "dtype float64 ('<f8') is not float32 ('<f4')",
    );
}

#[test]
fn error_input_of_wrong_rank() {
    expect_error(
        "err-rank",
        |f| std::fs::write(f.path("x.npy"), npy(&[36, 12], &f.input, "<f4")).unwrap(),
        &K357,
        "shape (36, 12) is not (N, H, W, C) or (H, W, C)",
    );
}

#[test]
fn error_input_truncated() {
    expect_error(
        "err-truncated",
        |f| {
            let mut b = std::fs::read(f.path("x.npy")).unwrap();
            b.truncate(b.len() - 8);
            std::fs::write(f.path("x.npy"), b).unwrap();
        },
        &K357,
        "shape (1, 6, 6, 12) needs 1728 bytes of data, the file holds 1720",
    );
}

#[test]
fn error_missing_group_array() {
    expect_error(
        "err-missing-g1",
        |f| {
            let members = vec![
                ("g0", npy(&[3, 3, 4], f.weights.group(0), "<f4")),
                ("g2", npy(&[7, 7, 4], f.weights.group(2), "<f4")),
            ];
            std::fs::write(f.path("w.npz"), npz(&members, false)).unwrap();
        },
        &K357,
        "missing array g1 (group 1: kernel 5, 4 channels)",
    );
}

#[test]
fn error_weights_of_wrong_shape() {
    expect_error(
        "err-wshape",
        |_| {},
        &["--kernels", "3,5,9"],
        "g2 has shape (7, 7, 4), expected (9, 9, 4)",
    );
}

#[test]
fn error_weights_of_wrong_dtype() {
    expect_error(
        "err-wdtype",
        |f| {
            let members = vec![
                ("g0", npy(&[3, 3, 4], f.weights.group(0), "<f8")),
                ("g1", npy(&[5, 5, 4], f.weights.group(1), "<f4")),
                ("g2", npy(&[7, 7, 4], f.weights.group(2), "<f4")),
            ];
            std::fs::write(f.path("w.npz"), npz(&members, true)).unwrap();
        },
        &K357,
        "g0: dtype float64",
    );
}

#[test]
fn error_bias_of_wrong_length() {
    expect_error(
        "err-bias",
        |f| {
            let members = vec![
                ("g0", npy(&[3, 3, 4], f.weights.group(0), "<f4")),
                ("g1", npy(&[5, 5, 4], f.weights.group(1), "<f4")),
                ("g2", npy(&[7, 7, 4], f.weights.group(2), "<f4")),
                ("bias", npy(&[5], &[0.0; 5], "<f4")),
            ];
            std::fs::write(f.path("w.npz"), npz(&members, false)).unwrap();
        },
        &K357,
        "bias has shape (5,), expected (12,)",
    );
}

#[test]
fn error_more_weight_arrays_than_kernels() {
    expect_error(
        "err-extra-g",
        |f| {
            let members = vec![
                ("g0", npy(&[3, 3, 4], f.weights.group(0), "<f4")),
                ("g1", npy(&[5, 5, 8], &[0.5; 200], "<f4")),
                ("g2", npy(&[7, 7, 4], f.weights.group(2), "<f4")),
            ];
            std::fs::write(f.path("w.npz"), npz(&members, false)).unwrap();
        },
        &["--kernels", "3,5", "--split", "4,8"],
        "w.npz: array g2 has no group: --kernels gives 2 groups",
    );
}

#[test]
fn error_dilations_count_differs_from_kernels() {
    expect_error(
        "err-dilations",
        |_| {},
        &["--kernels", "3,5,7", "--dilations", "1,2"],
        "--dilations gives 2 values for 3 kernels",
    );
}

#[test]
fn error_split_count_differs_from_kernels() {
    expect_error(
        "err-split-count",
        |_| {},
        &["--kernels", "3,5,7", "--split", "6,6"],
        "--split gives 2 sizes for 3 kernels",
    );
}

#[test]
fn error_split_that_does_not_add_up() {
    expect_error(
        "err-split-sum",
        |_| {},
        &["--kernels", "3,5,7", "--split", "4,4,5"],
        "split sizes add up to 13 channels, the layer has 12",
    );
}

#[test]
fn error_even_kernel_bad_padding_and_activation() {
    expect_error(
        "err-even",
        |_| {},
        &["--kernels", "3,4,7"],
        "group 1: kernel size 4 must be odd",
    );
    expect_error(
        "err-padding",
        |_| {},
        &["--kernels", "3,5,7", "--padding", "valid"],
        "--padding \"valid\": expected symmetric or tf-same",
    );
    expect_error(
        "err-activation",
        |_| {},
        &["--kernels", "3,5,7", "--activation", "gelu"],
        "--activation \"gelu\": expected none, relu, relu6, silu or hardswish",
    );
}

#[test]
fn error_weights_not_an_archive_and_missing_files() {
    expect_error(
        "err-not-zip",
        |f| {
            std::fs::copy(f.path("x.npy"), f.path("w.npz"))
                .map(|_| ())
                .unwrap()
        },
        &K357,
        "not a valid .npz (zip) archive",
    );
    expect_error(
        "err-no-input",
        |f| std::fs::remove_file(f.path("x.npy")).unwrap(),
        &K357,
        "cannot read",
    );
    expect_error("err-no-kernels", |_| {}, &[], "--kernels is required");
}

fn summary(stdout: &str) -> (usize, usize) {
    let last = stdout.trim_end().lines().last().unwrap_or("");
    let (p, f) = last
        .split_once(" passed, ")
        .unwrap_or_else(|| panic!("no summary line: {stdout}"));
    let f = f.strip_suffix(" failed").expect("summary line");
    (p.parse().unwrap(), f.parse().unwrap())
}

#[test]
fn verify_on_random_layers_passes_and_prints_the_summary() {
    let out = mixconv(&["verify", "--quick", "--random", "25"]);
    let stdout = text(&out.stdout);
    let (passed, failed) = summary(&stdout);
    assert_eq!(failed, 0, "{stdout}");
    assert_eq!(passed, 25 * mixconv::available_isas().len());
    assert!(out.status.success());
}

#[test]
fn verify_exit_code_follows_the_failures() {
    let out = mixconv(&[
        "verify",
        "--quick",
        "--random",
        "12",
        "--seed",
        "3",
        "--activations",
        "silu,hardswish",
    ]);
    let stdout = text(&out.stdout);
    let (passed, failed) = summary(&stdout);
    assert_eq!(
        (passed, failed),
        (12 * mixconv::available_isas().len(), 0),
        "{stdout}"
    );
    assert!(out.status.success());
}

fn check_report_json(v: &serde_json::Value, threads: u64) {
    for key in ["cpu", "isa"] {
        assert!(v[key].is_string(), "{key}");
    }
    assert_eq!(v["threads"].as_u64(), Some(threads));
    assert!(v["peak_gflops"].as_f64().unwrap() > 0.0);
    let layers = v["layers"].as_array().unwrap();
    assert!(!layers.is_empty());
    for l in layers {
        assert!(l["name"].is_string());
        for key in ["h", "w", "channels", "stride"] {
            assert!(l[key].is_u64(), "{key}");
        }
        for key in ["kernels", "splits"] {
            assert!(
                l[key].as_array().unwrap().iter().all(|k| k.is_u64()),
                "{key}"
            );
        }
        assert!(
            l["microkernels"]
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k.is_string())
        );
        assert_eq!(
            l["kernels"].as_array().unwrap().len(),
            l["microkernels"].as_array().unwrap().len()
        );
        for key in [
            "median_us",
            "gflops",
            "pct_peak",
            "floor_us",
            "over_floor",
            "speedup_vs_reference",
            "max_abs_error",
        ] {
            assert!(l[key].as_f64().is_some(), "{key}");
        }
        assert!(l["max_abs_error"].as_f64().unwrap() < 1e-3);
        assert!(l["floor_us"].as_f64().unwrap() > 0.0);
    }
    for key in ["median_us", "gflops", "pct_peak", "floor_us", "over_floor"] {
        assert!(v["total"][key].as_f64().is_some(), "total.{key}");
    }
}

#[test]
fn main_job_json_has_every_key_and_the_workload_names() {
    let out = mixconv(&["--json", "--threads", "2", "--budget-ms", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    check_report_json(&v, 2);
    let names: Vec<&str> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..16).map(|i| format!("mixnet_s.{i}")).collect();
    assert_eq!(names, expected);
}

#[test]
fn bench_reports_a_described_layer() {
    let out = mixconv(&[
        "bench",
        "--kernels",
        "3,5,7",
        "--channels",
        "24",
        "--size",
        "14",
        "--stride",
        "2",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_report_json(&v, 1);
    assert_eq!(v["layers"][0]["splits"], serde_json::json!([8, 8, 8]));
    assert_eq!(v["layers"][0]["stride"], 2);

    let out = mixconv(&[
        "bench",
        "--kernels",
        "3,5",
        "--channels",
        "8",
        "--size",
        "9",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    for needle in [
        "cpu: ",
        "isas available",
        "GFLOP/s",
        "% peak",
        "x floor",
        "total (1 layers)",
    ] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
}

#[test]
fn info_shows_features_isas_and_the_plan() {
    let out = mixconv(&["info", "--layer", "mixnet_s.3", "--isa", "portable"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for needle in [
        "features: ",
        "isas available: ",
        "mixconv plan: 1x56x56x144",
        "group 2",
    ] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
    let out = mixconv(&["info", "--isa", "sse9"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown instruction set"));
}

/// Files written by NumPy itself (`np.save`, `np.savez`, `np.savez_compressed`: zip64 local
/// headers, deflate), and NumPy's own float64 result of the layer (tests/fixtures/cli/README.md).
#[test]
fn run_reads_numpy_files_and_matches_numpy() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli");
    let (shape, expected) = read_npy(&fixtures.join("numpy_y_relu.npy"));
    for archive in ["numpy_w_stored.npz", "numpy_w_deflated.npz"] {
        let dir = temp_dir(&format!("numpy-{archive}"));
        let out = mixconv(&[
            "run",
            "--input",
            fixtures.join("numpy_x.npy").to_str().unwrap(),
            "--weights",
            fixtures.join(archive).to_str().unwrap(),
            "--output",
            dir.join("y.npy").to_str().unwrap(),
            "--kernels",
            "3,5",
            "--dilations",
            "1,2",
            "--stride",
            "2",
            "--activation",
            "relu",
        ]);
        assert!(out.status.success(), "{archive}: {}", text(&out.stderr));
        let (got_shape, got) = read_npy(&dir.join("y.npy"));
        assert_eq!(got_shape, shape);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!(
                (g - e).abs() <= 1e-5 * (1.0 + e.abs()),
                "{archive} output {i}: {g} vs {e}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
