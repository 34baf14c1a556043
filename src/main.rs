//! `tousu`: the command line. Thin: parses flags, calls the library, prints.

mod cli;

// The service allocates many short-lived strings and vectors per request (JSON, tokens, hits);
// glibc's malloc spent ~15% of search and triage time in its free lists here, mimalloc a
// fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tousu",
    version,
    about = "Triage and analysis of Chinese complaints (投诉)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Triage one complaint (argument or stdin) and print JSON.
    Triage(cli::triage::TriageArgs),
    /// Train a profile's model from labelled JSONL and write models/<profile>/.
    Train(Box<cli::train::TrainArgs>),
    /// Evaluate a model (grade rules included) on labelled JSONL.
    Eval(cli::eval::EvalArgs),
    /// Split labelled JSONL into train.jsonl and dev.jsonl, joining labels of one text by id.
    Split(cli::split::SplitArgs),
    /// Run the HTTP API on the embedded store (SQLite) and index (tantivy).
    Serve(cli::serve::ServeArgs),
    /// Import cases from JSONL into the store and index (resumable).
    Import(cli::data::ImportArgs),
    /// Export cases as JSONL or CSV, or analysts' corrections as training JSONL.
    Export(cli::data::ExportArgs),
    /// Rebuild the search index from the store.
    Reindex(cli::data::ReindexArgs),
    /// Measure resolution suggestions on resolved history (time-ordered split) beside BM25.
    EvalSuggestions(cli::eval_suggestions::EvalSuggestionsArgs),
    /// Resolved history into dispatch training data: each complaint labelled with the kind of
    /// department its reply names, split by time (older to train, newer to measure).
    DispatchSplit(cli::dispatch_split::DispatchSplitArgs),
    /// Rewrite a trained model's weights in f16: half the bytes, the same judgements (the
    /// loader widens them to f32).
    HalveWeights(cli::halve::HalveArgs),
    /// Case counts per hour/day/week by category, grade, channel, department or phrase;
    /// rising phrases; hot topics (a table in the terminal).
    Trends(cli::trends::TrendsArgs),
    /// Feed timestamped complaints through intake in time order (as fast as possible or
    /// scaled), then print the hot topics of every week: a detector judged on history.
    Replay(cli::trends::ReplayArgs),
    /// Handling KPIs of the cases received in a period (受理及时率, 按时办结率, 满意率, …),
    /// overall and by department, handler, category, channel or grade.
    Kpis(cli::kpis::KpisArgs),
    /// What the service's memory goes to for this store: each in-memory view built in turn,
    /// its size and its bytes a case, and the configured caches.
    Memory(cli::memory::MemoryArgs),
    /// The daily report (日报) of a Beijing day: arrivals, each department's day, what was open
    /// and overdue at its end, the day's cases; JSON or an .xlsx workbook.
    Report(cli::report::ReportArgs),
    /// Search the audit trail across cases by actor, action, case and time (JSON lines,
    /// newest first).
    Audit(cli::audit::AuditArgs),
    /// How far the two annotation passes of a label file agreed (share, Cohen's κ), and what
    /// the third pass settled.
    Agreement(cli::agreement::AgreementArgs),
    /// Hash a workbench user's password (read from stdin) for `password_hash` in the config.
    HashPassword(cli::hash_password::HashPasswordArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Not the commands that talk to the network (`serve`, and `replay`, which may deliver
    // alerts): a write to a closed socket must stay an error there, not end the process.
    if !matches!(cli.command, Command::Serve(_) | Command::Replay(_)) {
        cli::closed_pipe::end_quietly_on_closed_pipe();
    }
    match cli.command {
        Command::Triage(a) => cli::triage::run(a),
        Command::Train(a) => cli::train::run(*a),
        Command::Eval(a) => cli::eval::run(a),
        Command::Split(a) => cli::split::run(a),
        Command::Serve(a) => cli::serve::run(a),
        Command::Import(a) => cli::data::import(a),
        Command::Export(a) => cli::data::export(a),
        Command::Reindex(a) => cli::data::reindex(a),
        Command::EvalSuggestions(a) => cli::eval_suggestions::run(a),
        Command::DispatchSplit(a) => cli::dispatch_split::run(a),
        Command::HalveWeights(a) => cli::halve::run(a),
        Command::Trends(a) => cli::trends::trends(a),
        Command::Replay(a) => cli::trends::replay(a),
        Command::Kpis(a) => cli::kpis::run(a),
        Command::Memory(a) => cli::memory::run(a),
        Command::Report(a) => cli::report::run(a),
        Command::Audit(a) => cli::audit::run(a),
        Command::HashPassword(a) => cli::hash_password::run(a),
        Command::Agreement(a) => cli::agreement::run(a),
    }
}
