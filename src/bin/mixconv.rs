fn main() {
    for isa in mixconv::available_isas() {
        println!("{isa}: {:.1}", mixconv::bench::peak_gflops(isa));
    }
}
