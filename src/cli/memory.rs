//! `tousu memory`: what the service's memory is spent on for this store, part by part, per case.

use clap::Args;
use tousu::service::{ProcessMemory, Watch, measure_footprint};
use tousu::store::{CaseStore, SqliteStore};

use super::open::{ServiceArgs, init_logs};

#[derive(Args)]
pub struct MemoryArgs {
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn run(a: MemoryArgs) -> anyhow::Result<()> {
    init_logs();
    let config = a.service.config()?;
    let purge = super::allocator::set_purge_delay(config.memory.allocator_purge_delay_ms);
    let huge_pages =
        super::allocator::set_transparent_huge_pages(config.memory.transparent_huge_pages);
    let store = SqliteStore::open_with(&config.data_dir.join("tousu.db"), config.memory.store())?;
    let cases = store.count()?;
    let watch = Watch::new(config.topics, config.alert_rules.clone(), None);
    let Some(parts) = measure_footprint(&store, watch, config.memory.recent_cases)? else {
        anyhow::bail!("this system does not report a process's memory (/proc/self/smaps_rollup)");
    };
    let mib = |b: f64| b / (1024.0 * 1024.0);
    println!("{cases} cases in {}", config.data_dir.display());
    println!("{:<36} {:>10} {:>14}", "part", "MiB", "bytes a case");
    for p in &parts {
        println!(
            "{:<36} {:>10.0} {:>14.0}",
            p.part,
            mib(p.bytes as f64),
            p.bytes as f64 / cases.max(1) as f64
        );
    }
    let m = &config.memory;
    // The writer and 8 readers (the checkpointer's is 2 MiB).
    let store_cache = (m.store_cache_mib * 9 + 2) as f64;
    println!(
        "{:<36} {:>10.0} {:>14}",
        "store page caches (at most)", store_cache, "-"
    );
    println!(
        "{:<36} {:>10.0} {:>14}",
        "index writer (at most)", m.index_writer_mib as f64, "-"
    );
    println!(
        "{:<36} {:>10.0} {:>14}",
        "search facet tables",
        mib((cases as usize * tousu::index::FACET_TABLE_BYTES_PER_CASE) as f64),
        tousu::index::FACET_TABLE_BYTES_PER_CASE
    );
    println!("allocator purge delay: {purge} ms");
    println!(
        "transparent huge pages: {}",
        if huge_pages { "allowed" } else { "off" }
    );
    if let Some(now) = ProcessMemory::now() {
        println!(
            "this process now: {:.0} MiB anonymous, {:.0} MiB of mapped files",
            mib(now.anonymous as f64),
            mib(now.file as f64)
        );
    }
    println!(
        "The server adds its model, the segmenter's dictionary and requests in flight; \
         `/metrics` reports its memory (tousu_memory_anonymous_bytes)."
    );
    Ok(())
}
