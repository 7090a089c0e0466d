//! AFL++ entry point of [`assiette_fuzz::purchase_import`] (`cargo afl build --release --features afl`).
fn main() {
    afl::fuzz!(|data: &[u8]| assiette_fuzz::purchase_import(data));
}
