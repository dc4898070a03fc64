pub fn run(_: &BenchArgs) -> anyhow::Result<std::process::ExitCode> {
    todo!()
}
#[derive(clap::Args)]
pub struct BenchArgs {}
