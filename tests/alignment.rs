//! Results do not depend on where the tensors start: a cache-line-aligned `AlignedVec` and
//! input and output slices starting anywhere in a line give the same bits, on every ISA,
//! in place and on the staged path.

use mixconv::{AlignedVec, MixConv, Plan, Shape, available_isas, bench};

#[test]
fn every_start_within_a_cache_line_gives_the_same_bits() {
    let layers = [
        // 512 channels (2 KiB pixels), stride 1: the staged path on every ISA.
        (MixConv::new(512, &[5]), Shape::new(1, 20, 20)),
        (
            MixConv::new(3 * 40, &[3, 5, 7]).stride(2),
            Shape::new(1, 30, 30),
        ),
        (
            MixConv::new(90, &[3]).dilations(&[3]),
            Shape::new(1, 16, 16),
        ),
    ];
    for isa in available_isas() {
        for (i, (layer, shape)) in layers.iter().enumerate() {
            let weights = bench::random_weights(layer, 3 + i as u64)
                .unwrap()
                .with_bias(bench::random_vec(layer.channels(), 5));
            let plan = Plan::new(layer, &weights, *shape, isa).unwrap();
            assert_eq!(
                plan.groups()[0].staged,
                i == 0,
                "{isa} layer {i}: staged path"
            );
            let input = AlignedVec::from_slice(&bench::random_vec(plan.input_len(), 9));
            let mut aligned = AlignedVec::zeros(plan.output_len());
            assert_eq!(input.as_ptr() as usize % 64, 0);
            plan.run(&input, &mut aligned).unwrap();
            assert!(aligned.iter().any(|&x| x != 0.0));
            for offset in [1, 3, 4, 8, 15] {
                // Line-aligned buffers, so that the slices start exactly `offset` floats
                // into a line.
                let mut shifted_in = AlignedVec::zeros(offset + input.len());
                shifted_in[offset..].copy_from_slice(&input);
                let mut shifted_out = AlignedVec::zeros(offset + aligned.len());
                assert_eq!(shifted_in[offset..].as_ptr() as usize % 64, 4 * offset);
                plan.run(&shifted_in[offset..], &mut shifted_out[offset..])
                    .unwrap();
                assert!(
                    shifted_out[offset..]
                        .iter()
                        .zip(aligned.iter())
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{isa} layer {i}: input and output {offset} floats past the aligned start"
                );
            }
        }
    }
}
