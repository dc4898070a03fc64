fn main() -> std::process::ExitCode {
    rongtook::main()
}
