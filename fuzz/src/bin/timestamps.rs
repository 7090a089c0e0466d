//! AFL++ entry point of [`assiette_fuzz::timestamps`] (`cargo afl build --release --features afl`).
fn main() {
    afl::fuzz!(|data: &[u8]| assiette_fuzz::timestamps(data));
}
