//! What `tousu train` is asked for and what it answers.

use serde::Serialize;

use crate::classify::metrics::HeadMetrics;
use crate::classify::units::UnitConfig;

/// Hyper-parameters of `tousu train`. Defaults were chosen on the dev splits (see the model
/// cards); every one is a flag.
#[derive(Debug, Clone, Serialize)]
pub struct TrainOptions {
    /// Profile name written into `config.json`.
    pub profile: String,
    /// Embedding dimension.
    pub dim: usize,
    /// Most epochs to run.
    pub max_epochs: usize,
    /// Epochs without dev improvement before stopping.
    pub patience: usize,
    /// Examples per optimiser step.
    pub batch_size: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Share of a complaint's units dropped at random each time it is seen (regularises the
    /// bag the way word dropout does).
    pub unit_dropout: f32,
    /// A unit enters the vocabulary only if this many training texts contain it.
    pub min_df: usize,
    /// Vocabulary size cap (keeps `model.safetensors` under 20 MB).
    pub max_vocab: usize,
    /// Weight of the grade loss beside the category loss.
    pub grade_loss_weight: f32,
    /// Units the tokenizer extracts.
    pub units: UnitConfig,
    /// Seed of initialisation, shuffling and dropout.
    pub seed: u64,
    /// Models trained with different seeds and averaged. Because the heads are linear over a
    /// bag, the average is itself one model of `dim × ensemble` dimensions.
    pub ensemble: usize,
    /// What early stopping watches on dev.
    pub stop_on: StopOn,
    /// Weight each class's loss inversely to its frequency in training, so that a rare class
    /// (严重 among government messages) counts as much as a common one, as macro-F1 does.
    pub balance_classes: bool,
    /// Train the grade head on the guideline's reason codes (rows that carry one), a grade
    /// being its best reason's ([`ModelConfig::grade_reasons`](crate::classify::ModelConfig)).
    pub grade_reasons: bool,
    /// Give each unit its own weight per column beside the shared encoder
    /// ([`ModelConfig::sparse_head`](crate::classify::ModelConfig)).
    pub sparse_head: bool,
    /// AdamW decoupled weight decay of the sparse head.
    pub sparse_decay: f64,
    /// AdamW learning rate of the sparse head (`None`: the model's): a weight that only its
    /// own unit's rows update needs larger steps than the shared ones.
    pub sparse_lr: Option<f64>,
    /// The category as a linear SVM over the units with this cost `C`
    /// ([`svm`](super::svm)), in place of the encoder's category head; `None`: the head.
    pub category_svm: Option<f64>,
    /// Bytes of weights this model may take: the profile's budget
    /// ([`MAX_WEIGHT_BYTES`](super::MAX_WEIGHT_BYTES)) less what its other models (the
    /// dispatch model) take.
    pub weight_budget: usize,
}

/// The dev figure early stopping keeps the best epoch by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopOn {
    /// The mean of the heads' macro-F1.
    Mean,
    /// Category macro-F1 only.
    Category,
    /// Grade macro-F1 only.
    Grade,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            profile: "custom".into(),
            dim: 64,
            max_epochs: 40,
            patience: 6,
            batch_size: 32,
            learning_rate: 0.01,
            weight_decay: 0.0,
            unit_dropout: 0.2,
            min_df: 2,
            max_vocab: 60_000,
            grade_loss_weight: 1.0,
            units: UnitConfig::default(),
            seed: 20261123,
            ensemble: 1,
            stop_on: StopOn::Mean,
            balance_classes: false,
            grade_reasons: false,
            sparse_head: false,
            sparse_decay: 0.0,
            sparse_lr: None,
            category_svm: None,
            weight_budget: super::MAX_WEIGHT_BYTES,
        }
    }
}

/// What a training run did, for the model card.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Examples with a category label, train side.
    pub train_category: usize,
    /// Examples with a grade label, train side.
    pub train_grade: usize,
    /// Examples with a category label, dev side.
    pub dev_category_count: usize,
    /// Examples with a grade label, dev side.
    pub dev_grade_count: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Trainable parameters.
    pub parameters: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// Epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Category temperature fitted on dev.
    pub category_temperature: f32,
    /// Grade temperature fitted on dev.
    pub grade_temperature: f32,
    /// Dev metrics of the model alone (no grade rules), calibrated.
    pub dev_category: Option<HeadMetrics>,
    /// Dev grade metrics of the model alone.
    pub dev_grade: Option<HeadMetrics>,
}
