fn main() {
    assiette::start();
}
