//! `mixconv verify`: every ISA against the reference on the MixNet layers and random layers,
//! with an error bound scaled by each output's magnitude (never a fixed epsilon).

use crate::args::VerifyArgs;
use crate::report::Progress;
use mixconv::bench::{Lcg, random_vec, random_weights};
use mixconv::{
    Activation, Isa, MixConv, Padding, Plan, Shape, Split, Weights, reference, workloads,
};

/// One layer to check.
struct Case {
    name: String,
    layer: MixConv,
    weights: Weights,
    shape: Shape,
}

/// Largest |f'(x)| of each activation: how much it can amplify an error of the sum.
fn slope(a: Activation) -> f32 {
    match a {
        Activation::None | Activation::Relu | Activation::Relu6 => 1.0,
        Activation::Silu => 1.1,
        Activation::HardSwish => 1.5,
    }
}

/// Runs the checks; returns the number of failures (the summary line is printed).
pub fn verify(args: &VerifyArgs) -> Result<usize, String> {
    let isas: Vec<Isa> = match &args.isa {
        Some(_) => vec![crate::args::isa(&args.isa)?],
        None => mixconv::available_isas(),
    };
    let activations: Vec<Activation> = if args.activations.is_empty() {
        Activation::ALL.to_vec()
    } else {
        args.activations
            .iter()
            .map(|a| {
                Activation::from_name(a).ok_or_else(|| {
                    format!("--activations {a:?}: expected none, relu, relu6, silu or hardswish")
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut cases = Vec::new();
    if !args.quick {
        for (_, layers) in workloads::MODELS {
            for l in *layers {
                let (layer, shape) = l.layer();
                let weights = random_weights(&layer, 7)
                    .map_err(|e| e.to_string())?
                    .with_bias(random_vec(layer.channels(), 8));
                cases.push(Case {
                    name: l.name.to_string(),
                    layer,
                    weights,
                    shape,
                });
            }
        }
    }
    let mut rng = Lcg::new(args.seed);
    for i in 0..args.random {
        cases.push(random_case(&mut rng, i, &activations));
    }

    println!(
        "verifying {} against the reference on {} layers ({} MixNet, {} random, seed {})",
        isas.iter().map(|i| i.name()).collect::<Vec<_>>().join(", "),
        cases.len(),
        cases.len() - args.random,
        args.random,
        args.seed
    );
    let progress = Progress::new(cases.len());
    let (mut passed, mut failed) = (0usize, 0usize);
    for (i, case) in cases.iter().enumerate() {
        progress.step(i, &case.name);
        let lens = Plan::new(&case.layer, &case.weights, case.shape, Isa::Portable)
            .map_err(|e| format!("{}: {e}", case.name))?;
        let input = random_vec(lens.input_len(), 1000 + i as u64);
        let outputs_len = lens.output_len();
        let mut expected = vec![0.0; outputs_len];
        reference::mixconv(
            &case.layer,
            &case.weights,
            case.shape,
            &input,
            &mut expected,
        )
        .map_err(|e| format!("{}: {e}", case.name))?;
        let magnitudes = reference::magnitudes(&case.layer, &case.weights, case.shape, &input)
            .map_err(|e| format!("{}: {e}", case.name))?;
        let slope = slope(case.layer.epilogue().activation);
        for &isa in &isas {
            match check(case, isa, &input, &expected, &magnitudes, slope) {
                Ok(()) => passed += 1,
                Err(why) => {
                    failed += 1;
                    progress.done();
                    println!("FAIL {isa} {}: {why}", case.name);
                }
            }
        }
    }
    progress.done();
    println!("{passed} passed, {failed} failed");
    Ok(failed)
}

/// Runs `case` on `isa` and compares every output with the reference.
fn check(
    case: &Case,
    isa: Isa,
    input: &[f32],
    expected: &[f32],
    magnitudes: &[f32],
    slope: f32,
) -> Result<(), String> {
    let plan = Plan::new(&case.layer, &case.weights, case.shape, isa).map_err(|e| e.to_string())?;
    let mut got = vec![f32::NAN; plan.output_len()];
    plan.run(input, &mut got).map_err(|e| e.to_string())?;
    for (index, ((g, e), m)) in got.iter().zip(expected).zip(magnitudes).enumerate() {
        let tolerance = 1e-5 * 4.0 * m * slope + 1e-6;
        let error = (g - e).abs();
        // NaN errors fail too.
        if error.is_nan() || error > tolerance {
            return Err(format!(
                "output {index}: got {g}, reference {e}, |error| {error:.3e} > tolerance {tolerance:.3e}"
            ));
        }
    }
    Ok(())
}

/// A random small layer: C, 1..6 groups, odd K 1..13, dilation 1..3, stride 1..3, H and W
/// 1..24, batch 1..2, either padding, any listed activation, bias half the time.
fn random_case(rng: &mut Lcg, i: usize, activations: &[Activation]) -> Case {
    loop {
        let groups = rng.range(1, 6);
        let channels = rng.range(groups, 48);
        let kernels: Vec<usize> = (0..groups).map(|_| 2 * rng.range(0, 6) + 1).collect();
        let dilations: Vec<usize> = (0..groups).map(|_| rng.range(1, 3)).collect();
        let split = match rng.range(0, 2) {
            0 => Split::Equal,
            1 => Split::Exponential,
            _ => {
                // Random sizes of at least 1 that add up to `channels`.
                let mut sizes = vec![1; groups];
                for _ in 0..channels - groups {
                    sizes[rng.range(0, groups - 1)] += 1;
                }
                Split::Explicit(sizes)
            }
        };
        let padding = if rng.range(0, 1) == 0 {
            Padding::Symmetric
        } else {
            Padding::TfSame
        };
        let activation = activations[rng.range(0, activations.len() - 1)];
        let stride = rng.range(1, 3);
        let shape = Shape::new(rng.range(1, 2), rng.range(1, 24), rng.range(1, 24));
        let layer = MixConv::new(channels, &kernels)
            .split(split)
            .dilations(&dilations)
            .stride(stride)
            .padding(padding)
            .activation(activation);
        if layer.output_size(shape.height, shape.width).is_err() {
            continue;
        }
        let Ok(mut weights) = random_weights(&layer, 100 + i as u64) else {
            continue;
        };
        if rng.range(0, 1) == 1 {
            weights = weights.with_bias(random_vec(channels, 200 + i as u64));
        }
        let name = format!(
            "random.{i} ({}x{}x{}x{channels}, k {kernels:?} d {dilations:?}, s{stride}, {padding:?}, {})",
            shape.batch,
            shape.height,
            shape.width,
            activation.name()
        );
        return Case {
            name,
            layer,
            weights,
            shape,
        };
    }
}
