//! `labels.json`: the class names of each head, in class-id order.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::Grade;
use crate::error::{Error, Result};

/// Class names per head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// Category names; empty when the model has no category head.
    pub category: Vec<String>,
    /// Grade names (一般, 严重, 重大) when the model has a grade head, else empty.
    pub grade: Vec<String>,
}

impl Labels {
    /// Grade labels in class-id order.
    pub fn grades() -> Vec<String> {
        Grade::ALL.iter().map(|g| g.label().to_string()).collect()
    }

    /// The class id of a category label, or an error listing the known ones.
    pub fn category_id(&self, label: &str, location: &str) -> Result<usize> {
        self.category
            .iter()
            .position(|c| c == label)
            .ok_or_else(|| Error::UnknownLabel {
                head: "category",
                label: label.to_string(),
                location: location.to_string(),
                known: self.category.join(", "),
            })
    }

    /// Reads `labels.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let s = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&s).map_err(|e| Error::bad_file(path, e.to_string()))
    }
}
