//! AFL++ entry point of [`assiette_fuzz::timestamps`] (`cargo afl build --release --features afl`).
//! A panic the code under test catches itself is not a crash; any other one is.
fn main() {
    afl::fuzz_nohook!(|data: &[u8]| assiette_fuzz::timestamps(data));
}
