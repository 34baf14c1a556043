//! The category and grade model: unit tokenizer (`tokenizers`), candle model, training,
//! evaluation metrics, calibration and explanations. Nothing else in the crate touches candle
//! or tokenizers.

mod annotations;
mod calibrate;
mod classifier;
mod dataset;
mod half;
mod labels;
mod metrics;
mod model;
mod prediction;
mod reasons;
mod tokenizer;
mod train;
mod units;

pub use self::annotations::{
    Agreement, Annotation, Attached, Graded, Judgement, PairAgreement, agreement, attach, compare,
    load_annotations, load_graded,
};
pub use self::calibrate::{fit_temperature, softmax};
pub use self::classifier::{Classifier, DRIVERS};
pub use self::dataset::{
    DevRule, Example, Loaded, fold_of, load_jsonl, load_many, merge_by_key, split, write_jsonl,
};
pub use self::half::halve_weights;
pub use self::labels::Labels;
pub use self::metrics::{
    ClassScores, ECE_BINS, HeadMetrics, confusion_scores, expected_calibration_error,
};
pub use self::model::{ComplaintModel, FoldedModel, Head, Logits, ModelConfig};
pub use self::prediction::{ALTERNATIVES, Alternative, Driver, HeadPrediction, Prediction};
pub use self::tokenizer::{UNK, UnitBag, UnitTokenizer};
pub use self::train::{MAX_WEIGHT_BYTES, StopOn, TrainOptions, TrainReport, train};
pub use self::units::{UnitConfig, for_each_unit};

/// The model card's file name inside a model directory.
pub const MODEL_CARD_FILE: &str = classifier::CARD_FILE;
