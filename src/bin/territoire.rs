//! The territory bundle: the metropolis' overview, trends and commune pages (`/territoire/`),
//! kept apart from the office bundle's XLSX reader and writer (see `territory`).
fn main() {
    #[cfg(target_arch = "wasm32")]
    assiette::start_territory();
}
