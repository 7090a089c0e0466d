//! `assiette-server egalim FILE`: yearly EGalim totals of a national purchase file, no server needed.

/// Runs the command; returns the process exit code.
pub fn run(_path: &std::path::Path) -> i32 {
    eprintln!("commande egalim : pas encore disponible");
    2
}
