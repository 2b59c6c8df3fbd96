//! The instruction sets agree with each other, and the `MIXCONV_ISA` override works.
//!
//! `default_isa()` is read once per process, so the override is tested in subprocesses: this
//! test binary re-runs itself with `MIXCONV_ISA` set, selecting only `report_default_isa`,
//! which checks `default_isa()` against the variable and prints what it got.

mod common;

use common::{Rng, tolerance};
use mixconv::{
    Activation, Error, ISA_ENV, Isa, MixConv, Padding, Plan, Shape, Split, Weights, available_isas,
    default_isa, parse_isa, reference,
};
use std::process::Command;

/// Set in the subprocesses this binary starts, so that they alone change their environment.
const CHILD_MARK: &str = "MIXCONV_TEST_ISA_ENV_CHILD";

/// What `default_isa()` must return in a process started with `value` in `MIXCONV_ISA`.
fn expected_default(value: Option<&str>) -> Result<Isa, Error> {
    match value {
        None | Some("") => Ok(Isa::best()),
        Some(name) => {
            let isa = Isa::ALL
                .into_iter()
                .find(|isa| isa.name() == name.trim())
                .ok_or_else(|| Error::UnknownIsa(name.to_string()))?;
            if isa.is_available() {
                Ok(isa)
            } else {
                Err(Error::IsaUnavailable(isa))
            }
        }
    }
}

/// Checks `default_isa()` against this process's `MIXCONV_ISA` and prints it for the parent.
/// Runs (and must pass) in the ordinary test run too, with whatever the environment holds.
#[test]
fn report_default_isa() {
    let value = std::env::var(ISA_ENV).ok();
    let got = default_isa();
    assert_eq!(
        got,
        expected_default(value.as_deref()),
        "{ISA_ENV}={value:?}"
    );
    match &got {
        Ok(isa) => {
            println!("DEFAULT_ISA=ok:{isa}");
            // A plan on the default ISA runs.
            let layer = MixConv::new(3, &[3]);
            let weights = Weights::hwc(vec![vec![1.0; 27]]);
            let plan = Plan::new(&layer, &weights, Shape::new(1, 4, 4), *isa).unwrap();
            let mut out = vec![0.0; plan.output_len()];
            plan.run(&vec![1.0; plan.input_len()], &mut out).unwrap();
            assert_eq!(out[(4 + 1) * 3], 9.0);
        }
        Err(e) => println!("DEFAULT_ISA=err:{e}"),
    }
    if std::env::var_os(CHILD_MARK).is_some() {
        // Single-threaded child (`--test-threads=1`, one test selected): changing the
        // environment races with nothing. The choice is cached: a new value is not read.
        // SAFETY: no other thread of this process reads or writes the environment.
        unsafe { std::env::set_var(ISA_ENV, "portable") };
        assert_eq!(default_isa(), got, "default_isa() read the variable again");
        // SAFETY: as above.
        unsafe { std::env::set_var(ISA_ENV, "bogus") };
        assert_eq!(default_isa(), got, "default_isa() read the variable again");
    }
}

/// Runs `report_default_isa` in a child with `MIXCONV_ISA` set to `value` (removed if `None`)
/// and returns the line it printed after `DEFAULT_ISA=`.
fn child_default(value: Option<&str>) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "report_default_isa",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_MARK, "1");
    match value {
        Some(v) => cmd.env(ISA_ENV, v),
        None => cmd.env_remove(ISA_ENV),
    };
    let out = cmd.output().expect("re-running the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child with {ISA_ENV}={value:?} failed: {}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test: {stdout}"
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("DEFAULT_ISA=").map(|(_, v)| v.trim_end()))
        .unwrap_or_else(|| panic!("no DEFAULT_ISA line in {stdout}"))
        .to_string()
}

#[test]
fn env_override_selects_each_available_isa() {
    for isa in Isa::ALL {
        let got = child_default(Some(isa.name()));
        if isa.is_available() {
            assert_eq!(got, format!("ok:{isa}"));
        } else {
            // Forcing an ISA the CPU lacks is an error, not a crash.
            assert!(got.starts_with("err:") && got.contains(isa.name()), "{got}");
            assert!(got.contains("not available"), "{got}");
        }
    }
    let avx2_spaced = child_default(Some(" avx2\t"));
    assert_eq!(
        avx2_spaced,
        match expected_default(Some("avx2")) {
            Ok(isa) => format!("ok:{isa}"),
            Err(e) => format!("err:{e}"),
        }
    );
}

#[test]
fn env_override_portable_empty_and_unset() {
    assert_eq!(child_default(Some("portable")), "ok:portable");
    let best = format!("ok:{}", Isa::best());
    assert_eq!(child_default(None), best);
    assert_eq!(child_default(Some("")), best);
}

#[test]
fn unknown_isa_in_the_env_is_an_error_not_a_crash() {
    for bogus in ["bogus", "AVX-1024", "portable,avx2"] {
        let got = child_default(Some(bogus));
        assert!(got.starts_with("err:unknown instruction set"), "{got}");
        assert!(got.contains(&format!("{bogus:?}")), "{got}");
        assert_eq!(parse_isa(bogus), Err(Error::UnknownIsa(bogus.to_string())));
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-ISA agreement.

fn layer_cases() -> Vec<(MixConv, Shape)> {
    vec![
        (
            MixConv::new(362, &[3, 5, 7, 9]).activation(Activation::Silu),
            Shape::new(1, 9, 9),
        ),
        (
            MixConv::new(45, &[3, 5, 7, 9, 11])
                .stride(2)
                .padding(Padding::TfSame)
                .split(Split::Exponential)
                .activation(Activation::HardSwish)
                .clamp(-1.0, 3.0),
            Shape::new(2, 15, 29),
        ),
        (
            MixConv::new(17, &[3, 3, 5, 7])
                .dilations(&[2, 6, 2, 2])
                .split(Split::Explicit(vec![1, 7, 8, 1]))
                .activation(Activation::Relu6),
            Shape::new(1, 14, 14)
                .input_pixel_stride(23)
                .output_pixel_stride(20),
        ),
        (MixConv::new(33, &[13, 1]).stride(2), Shape::new(1, 13, 13)),
        (
            MixConv::new(16, &[9]).activation(Activation::Relu),
            Shape::new(3, 7, 7),
        ),
    ]
}

#[test]
fn isas_agree_with_each_other_and_with_the_reference() {
    let isas = available_isas();
    assert_eq!(isas[0], Isa::Portable);
    assert!(isas.contains(&Isa::best()));
    for (n, (layer, shape)) in layer_cases().into_iter().enumerate() {
        let mut rng = Rng::new(n as u64 + 77);
        let sizes = layer.group_channels().unwrap();
        let weights = Weights::hwc(
            layer
                .kernels()
                .iter()
                .zip(&sizes)
                .map(|(&k, &c)| rng.vec(k * k * c, -1.0, 1.0))
                .collect(),
        )
        .with_bias(rng.vec(layer.channels(), -0.5, 0.5));
        let probe = Plan::new(&layer, &weights, shape, Isa::Portable).unwrap();
        let input = rng.vec(probe.input_len(), -2.0, 2.0);
        let mags = reference::magnitudes(&layer, &weights, shape, &input).unwrap();
        let mut want = vec![0.0; probe.output_len()];
        reference::mixconv(&layer, &weights, shape, &input, &mut want).unwrap();
        let activation = layer.epilogue().activation;
        let mut results = Vec::new();
        for &isa in &isas {
            let plan = Plan::new(&layer, &weights, shape, isa).unwrap();
            assert_eq!(plan.isa(), isa);
            assert!(plan.to_string().contains(&format!("isa {isa}")), "{plan}");
            let mut out = vec![0.0; plan.output_len()];
            plan.run(&input, &mut out).unwrap();
            results.push((isa, out));
        }
        let c = layer.channels();
        let stride = shape.output_pixel_stride.unwrap_or(c);
        for (i, (a_isa, a)) in results.iter().enumerate() {
            for (b_isa, b) in &results[i + 1..] {
                for j in (0..a.len()).filter(|j| j % stride < c) {
                    let tol = 2.0 * tolerance(mags[j], activation);
                    assert!(
                        (a[j] - b[j]).abs() <= tol,
                        "layer {n}: {a_isa} gives {} and {b_isa} {} at {j} (tol {tol})",
                        a[j],
                        b[j]
                    );
                }
            }
            for j in (0..a.len()).filter(|j| j % stride < c) {
                assert!(
                    (a[j] - want[j]).abs() <= tolerance(mags[j], activation),
                    "layer {n}: {a_isa} gives {} at {j}, reference {}",
                    a[j],
                    want[j]
                );
            }
        }
    }
}
