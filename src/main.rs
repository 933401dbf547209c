fn main() {
    std::process::exit(glassmd::cli::main());
}
