//! A grade head of reasons read as grades: each grade's logit is the largest of its guideline
//! reasons' logits, so the grade is always its best reason's, and that reason's column is the
//! one that explains it.

use candle_core::Tensor;

use crate::domain::{Grade, Reason};

/// `[batch, 11]` reason logits → `[batch, 3]` grade logits, each grade's the largest of its
/// reasons' (so the grade is always the best reason's guideline grade).
pub fn pool_reasons(reasons: &Tensor) -> candle_core::Result<Tensor> {
    // The folded model's reasons are a narrowed view of its table's columns.
    let reasons = &reasons.contiguous()?;
    let columns = Grade::ALL
        .iter()
        .map(|&g| {
            let of_grade: Vec<u32> = reasons_of(g).map(|i| i as u32).collect();
            let index = Tensor::new(of_grade.as_slice(), reasons.device())?;
            reasons.index_select(&index, 1)?.max_keepdim(1)
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    Tensor::cat(&columns, 1)
}

/// [`pool_reasons`] for one row of reason logits, without tensors (the request path).
pub fn pool_reason_row(reasons: &[f32]) -> [f32; 3] {
    let mut grades = [f32::NEG_INFINITY; 3];
    for (r, &l) in Reason::ALL.iter().zip(reasons) {
        let g = &mut grades[r.guideline_grade().index()];
        *g = g.max(l);
    }
    grades
}

/// The column (index in [`Reason::ALL`]) of grade class `class`'s best reason, given a head of
/// reasons' `logits`: the reason behind that grade, and the column that explains it.
pub fn best_reason(logits: &[f32], class: usize) -> usize {
    Grade::from_index(class)
        .and_then(|g| reasons_of(g).max_by(|&a, &b| logits[a].total_cmp(&logits[b])))
        .unwrap_or(class)
}

/// Indices in [`Reason::ALL`] of the reasons whose guideline grade is `grade`.
fn reasons_of(grade: Grade) -> impl Iterator<Item = usize> {
    (0..Reason::ALL.len()).filter(move |&i| Reason::ALL[i].guideline_grade() == grade)
}
