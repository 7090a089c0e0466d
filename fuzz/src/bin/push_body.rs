//! AFL++ entry point of [`assiette_fuzz::push_body`] (`cargo afl build --release --features afl`).
fn main() {
    afl::fuzz!(|data: &[u8]| assiette_fuzz::push_body(data));
}
