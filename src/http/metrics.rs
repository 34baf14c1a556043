//! Prometheus metrics: request latency by route, queue depths, index lag.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

/// The registry and its metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RouteLabels, Histogram>,
    /// Writes waiting for the store's writer.
    pub store_queue: Gauge,
    /// Requests waiting for a model slot.
    pub inference_waiting: Gauge,
    /// Requests running the model.
    pub inference_running: Gauge,
    /// Store versions not yet searchable.
    pub index_lag: Gauge,
    /// Cases in the store.
    pub cases: Gauge,
    /// Open cases (in the work view).
    pub open_cases: Gauge,
    /// The process's anonymous memory (heap), in bytes.
    pub memory_anonymous: Gauge,
    /// The process's resident pages of mapped files, in bytes.
    pub memory_file: Gauge,
    /// How long the last deadline sweep took, its alerts raised, in microseconds.
    pub deadline_sweep: Gauge,
    /// Deadlines the last sweep found crossed.
    pub deadline_sweep_crossed: Gauge,
    /// Sweeps since the start.
    pub deadline_sweeps: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tousu");
        let requests = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to ~13 s.
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.0001, 2.0, 18,
            ))
        });
        registry.register(
            "http_request_duration_seconds",
            "Request latency by route",
            requests.clone(),
        );
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            requests,
            store_queue: Gauge::default(),
            inference_waiting: Gauge::default(),
            inference_running: Gauge::default(),
            index_lag: Gauge::default(),
            cases: Gauge::default(),
            open_cases: Gauge::default(),
            memory_anonymous: Gauge::default(),
            memory_file: Gauge::default(),
            deadline_sweep: Gauge::default(),
            deadline_sweep_crossed: Gauge::default(),
            deadline_sweeps: Gauge::default(),
        };
        registry.register(
            "store_write_queue",
            "Writes waiting for the store writer",
            m.store_queue.clone(),
        );
        registry.register(
            "inference_waiting",
            "Requests waiting for a model slot",
            m.inference_waiting.clone(),
        );
        registry.register(
            "inference_running",
            "Requests running the model",
            m.inference_running.clone(),
        );
        registry.register(
            "index_lag_versions",
            "Store versions not yet searchable",
            m.index_lag.clone(),
        );
        registry.register("cases", "Cases in the store", m.cases.clone());
        registry.register("open_cases", "Open cases", m.open_cases.clone());
        registry.register(
            "memory_anonymous_bytes",
            "The process's anonymous memory (heap and caches; see `tousu memory`)",
            m.memory_anonymous.clone(),
        );
        registry.register(
            "memory_file_bytes",
            "The process's resident pages of mapped files (store map, index, model)",
            m.memory_file.clone(),
        );
        registry.register(
            "deadline_sweep_microseconds",
            "How long the last deadline sweep over the open cases took, its alerts raised",
            m.deadline_sweep.clone(),
        );
        registry.register(
            "deadline_sweep_crossed",
            "Deadlines the last sweep found crossed (due soon or breached)",
            m.deadline_sweep_crossed.clone(),
        );
        registry.register(
            "deadline_sweeps",
            "Deadline sweeps since the start",
            m.deadline_sweeps.clone(),
        );
        *m.registry.lock().expect("metrics lock") = registry;
        m
    }
}

impl Metrics {
    /// Records one request.
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .observe(took.as_secs_f64());
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().expect("metrics lock");
        encode(&mut out, &registry).expect("writing to a String cannot fail");
        out
    }
}
