//! The office bundle: the screens a kitchen's first visit does not load (see `app::Bundle`).
fn main() {
    #[cfg(target_arch = "wasm32")]
    assiette::start_office();
}
