//! Multi-threaded runs and the task API give bit-identical results, whatever the thread count
//! and task order.

use mixconv::{Activation, MixConv, Plan, Shape, Threads, Weights, available_isas};

/// Deterministic pseudo-random values in [-1, 1).
fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// The index in [`layers`] of the layer that runs in bands of 3 output rows.
const BANDED: usize = 3;

fn layers() -> Vec<(MixConv, Shape)> {
    vec![
        (
            MixConv::new(192, &[3, 5, 7, 9]).activation(Activation::Silu),
            Shape::new(1, 28, 28),
        ),
        (
            MixConv::new(90 * 4 + 2, &[3, 5, 7, 9]),
            Shape::new(1, 14, 14),
        ),
        (MixConv::new(1536, &[3, 5, 7, 9]), Shape::new(1, 7, 7)),
        // `BANDED` (`Plan::band_rows`): 3 output rows a band.
        (
            MixConv::new(200, &[3, 5, 7]).stride(2),
            Shape::new(1, 61, 96),
        ),
        (MixConv::new(96, &[3]).stride(2), Shape::new(2, 56, 56)),
        (
            MixConv::new(64, &[11]).stride(2),
            Shape::new(1, 14, 14).output_pixel_stride(80),
        ),
    ]
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn every_thread_count_and_task_order_gives_the_same_bits() {
    let pools: Vec<rayon::ThreadPool> = [1, 2, 3]
        .iter()
        .map(|&n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        })
        .collect();
    for isa in available_isas() {
        for (i, (layer, shape)) in layers().into_iter().enumerate() {
            let sizes = layer.group_channels().unwrap();
            let groups = layer
                .kernels()
                .iter()
                .zip(&sizes)
                .enumerate()
                .map(|(g, (k, c))| values(k * k * c, g as u64))
                .collect();
            let weights = Weights::hwc(groups).with_bias(values(layer.channels(), 99));
            let plan = Plan::new(&layer, &weights, shape, isa).unwrap();
            assert!(plan.tasks().len() > 1, "layer {i} should be cut into tasks");
            if i == BANDED {
                assert_eq!(plan.band_rows(), 3, "layer {i} should run in bands");
            }
            let input = values(plan.input_len(), 7 + i as u64);
            let run = |threads: Threads| {
                let mut out = vec![f32::from_bits(0x7fc0_dead); plan.output_len()];
                plan.run_with(&input, &mut out, threads).unwrap();
                bits(&out)
            };
            let single = run(Threads::Single);
            assert!(single.iter().any(|&b| b != 0x7fc0_dead));
            assert_eq!(
                single,
                run(Threads::Current),
                "{isa} layer {i}: current pool"
            );
            for pool in &pools {
                assert_eq!(
                    single,
                    run(Threads::Pool(pool)),
                    "{isa} layer {i}: {} threads",
                    pool.current_num_threads()
                );
            }
            // The task API, tasks in reverse order and from two threads at once.
            let mut out = vec![f32::from_bits(0x7fc0_dead); plan.output_len()];
            let mut parts = Vec::new();
            let mut rest = out.as_mut_slice();
            let mut consumed = 0;
            for t in 0..plan.tasks().len() {
                let range = plan.task_output_range(t).unwrap();
                let (_, tail) = rest.split_at_mut(range.start - consumed);
                let (part, tail) = tail.split_at_mut(range.len());
                parts.push((t, part));
                rest = tail;
                consumed = range.end;
            }
            parts.reverse();
            let middle = parts.len() / 2;
            let (a, b) = parts.split_at_mut(middle);
            std::thread::scope(|s| {
                for half in [a, b] {
                    let (plan, input) = (&plan, &input);
                    s.spawn(move || {
                        for (t, part) in half.iter_mut() {
                            plan.run_task(*t, input, part).unwrap();
                        }
                    });
                }
            });
            assert_eq!(single, bits(&out), "{isa} layer {i}: task API");
        }
    }
}

#[test]
fn the_task_api_refuses_bad_indices_and_lengths() {
    let layer = MixConv::new(32, &[3, 5]);
    let weights = Weights::hwc(vec![vec![0.5; 9 * 16], vec![0.5; 25 * 16]]);
    let plan = Plan::new(
        &layer,
        &weights,
        Shape::new(1, 64, 64),
        mixconv::Isa::Portable,
    )
    .unwrap();
    let input = vec![1.0; plan.input_len()];
    let tasks = plan.tasks().len();
    let err = plan.task_output_range(tasks).unwrap_err().to_string();
    assert!(err.contains(&tasks.to_string()), "{err}");
    let range = plan.task_output_range(0).unwrap();
    let mut short = vec![0.0; range.len() - 1];
    let err = plan
        .run_task(0, &input, &mut short)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&(range.len() - 1).to_string()), "{err}");
    let mut out = vec![0.0; range.len()];
    assert!(plan.run_task(0, &input[1..], &mut out).is_err());
}

/// Random layers large enough to be cut into many tasks (row bands, column bands, borders in
/// every position): the task API's bits equal the single-threaded run's.
#[test]
fn tasks_and_whole_images_give_the_same_bits_on_random_layers() {
    let mut seed = 0x1234_5678_u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    for case in 0..40 {
        let groups = 1 + next(4);
        let kernels: Vec<usize> = (0..groups).map(|_| 1 + 2 * next(7)).collect();
        let dilations: Vec<usize> = (0..groups).map(|_| 1 + next(2)).collect();
        let channels = groups * (4 + next(60));
        let stride = 1 + next(2);
        let (h, w) = (12 + next(30), 12 + next(30));
        let layer = MixConv::new(channels, &kernels)
            .stride(stride)
            .dilations(&dilations);
        let sizes = layer.group_channels().unwrap();
        let weights = Weights::hwc(
            kernels
                .iter()
                .zip(&sizes)
                .enumerate()
                .map(|(g, (k, c))| values(k * k * c, g as u64 + case))
                .collect(),
        )
        .with_bias(values(channels, case));
        for isa in available_isas() {
            let plan = Plan::new(&layer, &weights, Shape::new(1 + next(2), h, w), isa).unwrap();
            let input = values(plan.input_len(), case);
            let mut whole = vec![0.0; plan.output_len()];
            plan.run_with(&input, &mut whole, Threads::Single).unwrap();
            let mut tasks = vec![0.0; plan.output_len()];
            for t in (0..plan.tasks().len()).rev() {
                let range = plan.task_output_range(t).unwrap();
                plan.run_task(t, &input, &mut tasks[range]).unwrap();
            }
            assert_eq!(
                bits(&whole),
                bits(&tasks),
                "case {case} {isa}: {layer:?} on {h}x{w}, {} tasks",
                plan.tasks().len()
            );
        }
    }
}
