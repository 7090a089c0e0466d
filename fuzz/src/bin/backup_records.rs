//! AFL++ entry point of [`assiette_fuzz::backup_records`] (`cargo afl build --release --features afl`).
fn main() {
    afl::fuzz!(|data: &[u8]| assiette_fuzz::backup_records(data));
}
