//! Trends and hot topics: case counts per time bucket by category, grade, channel, department
//! and key phrase; values rising against their baseline; and topics (cases sharing rare key
//! phrases) whose count bursts. Derived from the store's cases, never the other way round.

mod book;
mod bucket;
mod burst;
mod case_ids;
mod contribution;
mod hot_topic;
mod topics;

pub use self::book::{Dimension, Rising, Series, TrendBook, TrendTable};
pub use self::bucket::{Bucket, beijing_date, hour_of, timestamp_of_hour};
pub use self::burst::{Burst, BurstTest, poisson_upper_tail};
pub use self::hot_topic::{HotTopic, TopicSettings, WeekTopics};
pub use self::topics::TopicTracker;
